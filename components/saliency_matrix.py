"""Saliency of the whole answer at once: explained answer tokens (rows) x input tokens or words (columns).

Cell (row p, column u) is the score of unit u for the token at position p, summed over the unit's tokens; blank
where the unit is not before p. Signed methods use a diverging scale symmetric around 0, unsigned ones white ->
purple; the scale ends at the largest |score| shown.
"""
from __future__ import annotations

from typing import Optional

import plotly.graph_objects as go
import streamlit as st

from backend.schemas.text_saliency import TextSaliency
from components.attention_matrix import axis_labels
from components.figure_config import figure_config
from components.token_units import token_units, unit_values
from components.token_weights import SIGNED_SCALE, UNSIGNED_SCALE, colour_limit

CELL_PX = 8
MAX_HEIGHT_PX = 1100


def saliency_grid(result: TextSaliency, *, granularity: str, show_template: bool
                  ) -> tuple[list[str], list[str], list[list[Optional[float]]]]:
    """(row names, column names, values rows x columns) of the matrix view."""
    units = [u for u in token_units(result.tokens, granularity=granularity, show_template=show_template)
             if u.position < max(row.position for row in result.rows)]
    columns = axis_labels([u.label for u in units], [u.position for u in units])
    rows = axis_labels([r.text for r in result.rows], [r.position for r in result.rows])
    return rows, columns, [unit_values(r.scores, units) for r in result.rows]


def saliency_matrix_figure(result: TextSaliency, *, granularity: str = "token", show_template: bool = False,
                           selected_position: Optional[int] = None) -> go.Figure:
    """Heatmap of every explained token's scores over the units before it; the selected row is marked."""
    rows, columns, values = saliency_grid(result, granularity=granularity, show_template=show_template)
    limit = colour_limit([v for row in values for v in row])
    zmin, scale = (-limit, SIGNED_SCALE) if result.signed else (0.0, UNSIGNED_SCALE)
    figure = go.Figure(go.Heatmap(
        z=values, x=columns, y=rows, colorscale=scale, zmin=zmin, zmax=limit, hoverongaps=False,
        hovertemplate="answer token %{y}<br>input %{x}<br>score %{z:.4g}<extra></extra>",
        colorbar=dict(title=dict(text="score", side="right"), thickness=12)))
    marked = [r.position for r in result.rows].index(selected_position) \
        if selected_position in [r.position for r in result.rows] else None
    if marked is not None:
        figure.add_shape(type="rect", xref="paper", x0=0, x1=1, y0=marked - 0.5, y1=marked + 0.5,
                         line=dict(color="#111111", width=2))
    figure.update_xaxes(type="category", tickangle=-60, title="input token" if granularity == "token"
                        else "input word", tickfont=dict(size=10))
    figure.update_yaxes(type="category", autorange="reversed", title="explained answer token", tickfont=dict(size=10))
    figure.update_layout(height=int(min(MAX_HEIGHT_PX, max(300, 190 + CELL_PX * len(rows)))),
                         margin=dict(l=8, r=8, t=16, b=8), plot_bgcolor="#fafafa")
    return figure


def render_saliency_matrix(result: TextSaliency, *, key: str, granularity: str = "token", show_template: bool = False,
                           selected_position: Optional[int] = None) -> None:
    """The matrix with a caption stating the normalisation and how to read the colours."""
    st.plotly_chart(saliency_matrix_figure(result, granularity=granularity, show_template=show_template,
                                           selected_position=selected_position),
                    key=f"{key}_saliency_matrix", config=figure_config("saliency-matrix"), width="stretch")
    reading = ("red = pushes that row's target up, blue = pulls it down" if result.signed
               else "darker = more influence")
    st.caption(f"Rows normalised: {result.normalisation_description}. "
               f"{'Words: scores summed over their tokens. ' if granularity == 'word' else ''}"
               f"Colours: {reading}; blank = not before that token. {unscored_note(result)}")


def unscored_note(result: TextSaliency) -> str:
    """What the blank answer columns mean when the method scored the prompt's tokens only ('' otherwise)."""
    if all(len(row.scores) == row.position for row in result.rows):
        return ""
    return ("Occlusion ablated the prompt's tokens only, so the answer's own tokens have no score (set Ablate to "
            "the prompt's and the answer's tokens to score them).")
