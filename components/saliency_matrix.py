"""Saliency of the whole answer at once: explained answer tokens (rows) x input tokens or words (columns).

Cell (row p, column u) is the score of unit u for the token at position p, summed over the unit's tokens; blank
where the unit is not before p. A matrix of more than MAX_MATRIX_CELLS cells is drawn by sentence (rows and
columns), each row the mean of its tokens' rows. Signed methods use a diverging scale symmetric around 0, unsigned
ones white -> purple; the scale ends at the largest |score| shown.
"""
from __future__ import annotations

from typing import Optional

import plotly.graph_objects as go
import streamlit as st

from backend.schemas.text_saliency import SaliencyRow, TextSaliency
from components.attention_matrix import axis_labels
from components.figure_config import figure_config
from components.token_units import token_units, unit_values
from components.token_weights import SIGNED_SCALE, UNSIGNED_SCALE, colour_limit

CELL_PX = 8
MAX_HEIGHT_PX = 1100
MAX_MATRIX_CELLS = 160_000  # about 400 x 400 cells; beyond, a screen shows no single cell: drawn by sentence


def matrix_granularity(result: TextSaliency, granularity: str, show_template: bool) -> str:
    """The granularity the matrix is drawn at: the one asked for, or "sentence" when its explained tokens x input
    units would pass MAX_MATRIX_CELLS (a 2,000-token answer: 4 million cells)."""
    last = max(row.position for row in result.rows)
    units = sum(1 for u in token_units(result.tokens, granularity=granularity, show_template=show_template)
                if u.position < last)
    return granularity if len(result.rows) * units <= MAX_MATRIX_CELLS else "sentence"


def _mean(values: list[Optional[float]]) -> Optional[float]:
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def saliency_grid(result: TextSaliency, *, granularity: str, show_template: bool
                  ) -> tuple[list[str], list[str], list[list[Optional[float]]]]:
    """(row names, column names, values rows x columns) of the matrix view. At "sentence" granularity the rows are
    the answer's sentences too: a cell is the mean, over the sentence's explained tokens, of the summed scores of
    the input sentence's tokens before each (blank where none is before any)."""
    last = max(row.position for row in result.rows)
    units = [u for u in token_units(result.tokens, granularity=granularity, show_template=show_template)
             if u.position < last]
    columns = axis_labels([u.label for u in units], [u.position for u in units])
    if granularity != "sentence":
        rows = axis_labels([r.text for r in result.rows], [r.position for r in result.rows])
        return rows, columns, [unit_values(r.scores, units) for r in result.rows]
    groups = row_sentences(result)
    rows = axis_labels([label for label, _ in groups], [members[0].position for _, members in groups])
    values = [[_mean(list(column)) for column in zip(*(unit_values(r.scores, units) for r in members))]
              for _, members in groups]
    return rows, columns, values


def row_sentences(result: TextSaliency) -> list[tuple[str, list[SaliencyRow]]]:
    """The explained rows grouped by the sentence they lie in: (the sentence's text, its rows), in order."""
    sentence_of = {p: u for u in token_units(result.tokens, granularity="sentence") for p in u.members}
    groups: list[tuple[str, list[SaliencyRow]]] = []
    for row in result.rows:
        unit = sentence_of[row.position]
        if groups and sentence_of[groups[-1][1][0].position] is unit:
            groups[-1][1].append(row)
        else:
            groups.append((unit.label, [row]))
    return groups


def saliency_matrix_figure(result: TextSaliency, *, granularity: str = "token", show_template: bool = False,
                           selected_position: Optional[int] = None) -> go.Figure:
    """Heatmap of every explained token's scores over the units before it; the selected row is marked."""
    granularity = matrix_granularity(result, granularity, show_template)
    rows, columns, values = saliency_grid(result, granularity=granularity, show_template=show_template)
    limit = colour_limit([v for row in values for v in row if v is not None])
    zmin, scale = (-limit, SIGNED_SCALE) if result.signed else (0.0, UNSIGNED_SCALE)
    figure = go.Figure(go.Heatmap(
        z=values, x=columns, y=rows, colorscale=scale, zmin=zmin, zmax=limit, hoverongaps=False,
        hovertemplate="answer token %{y}<br>input %{x}<br>score %{z:.4g}<extra></extra>",
        colorbar=dict(title=dict(text="score", side="right"), thickness=12)))
    shown_rows = [[r.position for r in members] for _, members in row_sentences(result)] \
        if granularity == "sentence" else [[r.position] for r in result.rows]
    marked = next((i for i, members in enumerate(shown_rows) if selected_position in members), None)
    if marked is not None:
        figure.add_shape(type="rect", xref="paper", x0=0, x1=1, y0=marked - 0.5, y1=marked + 0.5,
                         line=dict(color="#111111", width=2))
    figure.update_xaxes(type="category", tickangle=-60, title=f"input {granularity}", tickfont=dict(size=10))
    figure.update_yaxes(type="category", autorange="reversed", title="explained answer " + (
        "sentence (mean of its tokens)" if granularity == "sentence" else "token"), tickfont=dict(size=10))
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
    shown = matrix_granularity(result, granularity, show_template)
    by_sentence = (f"Shown by sentence: {len(result.rows):,} explained tokens would be more cells than a screen "
                   f"shows ({MAX_MATRIX_CELLS:,} at most); each row is a sentence of the answer, the mean of its "
                   f"tokens' rows, each column an input sentence, its tokens' scores summed. ") \
        if shown == "sentence" and granularity != "sentence" else ""
    st.caption(f"{by_sentence}Rows normalised: {result.normalisation_description}. "
               f"{'Words: scores summed over their tokens. ' if granularity == 'word' else ''}"
               f"Colours: {reading}; blank = not before that token. {unscored_note(result)}")


def unscored_note(result: TextSaliency) -> str:
    """What the blank answer columns mean when the method scored the prompt's tokens only ('' otherwise)."""
    if all(len(row.scores) == row.position for row in result.rows):
        return ""
    return ("Occlusion ablated the prompt's tokens only, so the answer's own tokens have no score (set Ablate to "
            "the prompt's and the answer's tokens to score them).")
