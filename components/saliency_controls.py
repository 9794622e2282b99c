"""Controls built from a saliency method's parameter metadata: a number input per integer parameter (with its
range), a select box per choice parameter (with what each choice means)."""
from __future__ import annotations

from typing import Sequence, Union

import streamlit as st

from backend.schemas.text_saliency import SaliencyParameterInfo

PER_ROW = 3


def render_parameter_controls(parameters: Sequence[SaliencyParameterInfo], *, key: str) -> dict[str, Union[int, str]]:
    """One control per parameter, PER_ROW to a row; returns {name: value}. Keys are `{key}_{parameter name}`."""
    values: dict[str, Union[int, str]] = {}
    for start in range(0, len(parameters), PER_ROW):
        for column, parameter in zip(st.columns(PER_ROW), parameters[start:start + PER_ROW]):
            if parameter.kind == "int":
                values[parameter.name] = int(column.number_input(
                    f"{parameter.label} ({parameter.minimum}–{parameter.maximum})", min_value=parameter.minimum,
                    max_value=parameter.maximum, value=int(parameter.default), step=1, help=parameter.help,
                    key=f"{key}_{parameter.name}"))
            else:
                choices = list(parameter.choices)
                values[parameter.name] = column.selectbox(
                    parameter.label, choices, index=choices.index(str(parameter.default)),
                    help=f"{parameter.help}. " + "; ".join(f"{k}: {v}" for k, v in parameter.choices.items()),
                    key=f"{key}_{parameter.name}")
    return values
