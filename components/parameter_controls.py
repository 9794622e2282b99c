"""Controls built from methods' parameters (ParameterInfo), the same on every page: a number box per number
(its range in the label, its step and bounds from the method table), or a slider; a select box per choice, each
choice shown by what it means."""
from __future__ import annotations

from typing import Any, Optional, Protocol, Sequence, Union

import streamlit as st

from backend.schemas.common import ParameterInfo

Value = Union[int, float, str]
PER_ROW = 3


class HasParameters(Protocol):
    """A method table entry as the wire carries it: a name, a label, its parameters."""

    name: str
    label: str
    parameters: Sequence[ParameterInfo]


def choice_label(description: str) -> str:
    """A choice shown by what it means ("attention rollout over all layers" -> "Attention rollout over all
    layers") rather than by its id."""
    return description[:1].upper() + description[1:]


def numbers(parameter: ParameterInfo) -> tuple[Value, Value, Value, Optional[Value]]:
    """(minimum, maximum, default, step) of a numeric parameter, all ints for an "int" one (ParameterInfo carries
    bounds as floats, and Streamlit refuses mixed numeric types); step 1 for an int without one, None (Streamlit's
    own) for a float without one."""
    cast = int if parameter.kind == "int" else float
    step = cast(parameter.step) if parameter.step is not None else (1 if parameter.kind == "int" else None)
    return cast(parameter.minimum), cast(parameter.maximum), cast(parameter.default), step


def number_label(label: str, low: Value, high: Value) -> str:
    """A number box's label with its range: "Steps (4–256)"."""
    return f"{label} ({low:g}–{high:g})"


def parameter_control(parameter: ParameterInfo, *, key: str, label: str = "", container: Any = None,
                      slider: bool = False) -> Value:
    """One control for parameter in container (the page by default), keyed `key`, labelled `label` (the
    parameter's own label by default); returns its value as the parameter's type. slider: a slider instead of a
    number box (a number parameter only)."""
    where = container if container is not None else st
    label = label or parameter.label
    if parameter.kind == "choice":
        choices = list(parameter.choices)
        return where.selectbox(label, choices, index=choices.index(str(parameter.default)), key=key,
                               format_func=lambda choice, meanings=parameter.choices: choice_label(meanings[choice]),
                               help=f"{parameter.help}.")
    low, high, default, step = numbers(parameter)
    if slider:
        return where.slider(label, low, high, default, step, key=key, help=parameter.help)
    value = where.number_input(number_label(label, low, high), low, high, default, step, key=key,
                               format="%d" if parameter.kind == "int" else "%g", help=parameter.help)
    return int(value) if parameter.kind == "int" else float(value)


def render_parameter_controls(parameters: Sequence[ParameterInfo], *, key: str,
                              per_row: int = PER_ROW) -> dict[str, Value]:
    """One method's controls, per_row to a row; returns {name: value}. Keys are `{key}_{parameter name}`."""
    values: dict[str, Value] = {}
    for start in range(0, len(parameters), per_row):
        for column, parameter in zip(st.columns(per_row), parameters[start:start + per_row]):
            values[parameter.name] = parameter_control(parameter, key=f"{key}_{parameter.name}", container=column)
    return values


def render_method_parameters(methods: Sequence[HasParameters], *, key: str,
                             per_row: int = PER_ROW) -> dict[str, dict[str, Value]]:
    """The controls of several methods in one grid, per_row to a row, each labelled "Method: Parameter" and keyed
    `{key}_{method name}_{parameter name}`; returns {method name: {parameter name: value}} for the methods that
    have parameters."""
    fields = [(method, parameter) for method in methods for parameter in method.parameters]
    values: dict[str, dict[str, Value]] = {}
    for start in range(0, len(fields), per_row):
        for column, (method, parameter) in zip(st.columns(per_row), fields[start:start + per_row]):
            values.setdefault(method.name, {})[parameter.name] = parameter_control(
                parameter, key=f"{key}_{method.name}_{parameter.name}", label=f"{method.label}: {parameter.label}",
                container=column)
    return values
