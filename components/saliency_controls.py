"""Controls built from a saliency method's parameter metadata: a number input per integer parameter (with its
range), a select box per choice parameter (with what each choice means)."""
from __future__ import annotations

from typing import Sequence, Union

import streamlit as st

from backend.schemas.text_saliency import SaliencyParameterInfo

PER_ROW = 3


def choice_label(description: str) -> str:
    """A choice shown by what it means ("attention rollout over all layers" -> "Attention rollout over all
    layers") rather than by its id."""
    return description[:1].upper() + description[1:]


def render_parameter_controls(parameters: Sequence[SaliencyParameterInfo], *, key: str) -> dict[str, Union[int, str]]:
    """One control per parameter, PER_ROW to a row; returns {name: value}. Keys are `{key}_{parameter name}`."""
    values: dict[str, Union[int, str]] = {}
    for start in range(0, len(parameters), PER_ROW):
        for column, parameter in zip(st.columns(PER_ROW), parameters[start:start + PER_ROW]):
            if parameter.kind == "int":
                low, high = int(parameter.minimum), int(parameter.maximum)
                values[parameter.name] = int(column.number_input(
                    f"{parameter.label} ({low}–{high})", min_value=low, max_value=high,
                    value=int(parameter.default), step=1, help=parameter.help, key=f"{key}_{parameter.name}"))
            else:
                choices = list(parameter.choices)
                values[parameter.name] = column.selectbox(
                    parameter.label, choices, index=choices.index(str(parameter.default)),
                    format_func=lambda choice, meanings=parameter.choices: choice_label(meanings[choice]),
                    help=f"{parameter.help}.", key=f"{key}_{parameter.name}")
    return values
