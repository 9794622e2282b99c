"""Token heatmap: the text drawn token by token, each token's box coloured by an uncertainty measure.

Tokens wrap into lines like a paragraph (monospace columns), so long answers stay readable. Hover shows the
token's numbers and top alternatives; a click selects it (the page reads the selection).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import plotly.graph_objects as go
import streamlit as st

from backend.schemas import TokenScore
from components.figure_config import figure_config
from components.measures import MEASURES, Measure
from components.text_safety import escape_plotly

LINE_HEIGHT_PX = 30
COLORBAR_GAP_PX = 6
COLORBAR_SPACE_PX = 70
CHAR_WIDTH_PX = 9.6
FONT = dict(family="DejaVu Sans Mono, Menlo, Consolas, monospace", size=15, color="#111111")
VISIBLE_WHITESPACE = {"\n": "↵", "\r": "␍", "\t": "→"}
EMPTY_TOKEN = "·"


@dataclass(frozen=True)
class TokenBox:
    """Where one token sits: line index (0 = top), first column and width in character cells."""

    line: int
    column: int
    width: int
    label: str


def display_text(text: str) -> str:
    """The token as shown: newlines and tabs as visible marks, an empty piece as a dot (never raw HTML)."""
    shown = "".join(VISIBLE_WHITESPACE.get(ch, ch) for ch in text)
    return shown or EMPTY_TOKEN


def layout_tokens(texts: Sequence[str], chars_per_line: int) -> list[TokenBox]:
    """Wrap tokens into lines of at most chars_per_line character cells.

    A token that would cross the right edge starts a new line; a token containing a newline ends its line.
    Tokens wider than a line are cut to the line width with an ellipsis.
    """
    boxes, line, column = [], 0, 0
    for text in texts:
        label = display_text(text)
        if len(label) > chars_per_line:
            label = label[:chars_per_line - 1] + "…"
        width = max(1, len(label))
        if column and column + width > chars_per_line:
            line, column = line + 1, 0
        boxes.append(TokenBox(line, column, width, label))
        column += width
        if "\n" in text:
            line, column = line + 1, 0
    return boxes


def hover_text(token: TokenScore) -> str:
    """Hover box: the token, its numbers, and its top alternatives (escaped; plotly reads tags in it)."""
    alternatives = "<br>".join(
        f"{'▶ ' if alt.id == token.id else '   '}{escape_plotly(repr(alt.text))} {alt.prob:.3f}"
        for alt in token.top_k)
    return (f"<b>{escape_plotly(repr(token.text))}</b> (position {token.position}, id {token.id})<br>"
            f"probability {token.prob:.4f} · log-prob {token.logprob:.3f}<br>"
            f"entropy {token.entropy:.3f} nats · rank {token.rank} · margin {token.margin:.3f}<br>"
            f"<i>top alternatives</i><br>{alternatives}")


def token_heatmap_figure(tokens: Sequence[TokenScore], *, measure: str = "prob", chars_per_line: int = 72,
                         selected: Optional[int] = None) -> go.Figure:
    """A figure of the tokens as coloured boxes in reading order.

    tokens: the sequence to draw. measure: a key of MEASURES. selected: index into tokens to outline.
    One horizontal-bar trace: y = line, base = first column, x = width in character cells; point i = tokens[i].
    """
    spec: Measure = MEASURES[measure]
    boxes = layout_tokens([t.text for t in tokens], chars_per_line)
    n_lines = (boxes[-1].line + 1) if boxes else 1
    values = [spec.value(t) for t in tokens]
    outline = [3 if i == selected else 0.5 for i in range(len(tokens))]
    figure = go.Figure(go.Bar(
        orientation="h", y=[b.line for b in boxes], x=[b.width for b in boxes], base=[b.column for b in boxes],
        width=0.86, text=[escape_plotly(b.label) for b in boxes], textposition="inside",
        insidetextanchor="middle", textangle=0, constraintext="none", textfont=FONT,
        hovertext=[hover_text(t) for t in tokens], hoverinfo="text",
        customdata=[[i] for i in range(len(tokens))],
        marker=dict(color=values, colorscale=spec.colorscale, cmin=spec.cmin, cmax=spec.cmax,
                    line=dict(color=["#111111" if i == selected else "#bbbbbb" for i in range(len(tokens))],
                              width=outline),
                    colorbar=dict(title=dict(text=spec.label + (f" ({spec.unit})" if spec.unit else ""),
                                             side="top"),
                                  orientation="h", thickness=10, len=0.5, x=1.0, xanchor="right",
                                  y=-COLORBAR_GAP_PX / (LINE_HEIGHT_PX * n_lines), yanchor="top")),
        showlegend=False,
    ))
    figure.update_xaxes(range=[-0.5, chars_per_line + 0.5], visible=False, fixedrange=True)
    figure.update_yaxes(range=[n_lines - 0.5, -0.5], visible=False, fixedrange=True)
    figure.update_layout(height=16 + LINE_HEIGHT_PX * n_lines + COLORBAR_SPACE_PX,
                         margin=dict(l=4, r=4, t=8, b=8 + COLORBAR_SPACE_PX),
                         plot_bgcolor="white", paper_bgcolor="white", bargap=0.1, dragmode=False,
                         hoverlabel=dict(font=dict(family=FONT["family"], size=13), align="left"),
                         clickmode="event+select")
    return figure


def render_token_heatmap(tokens: Sequence[TokenScore], *, key: str, measure: str = "prob",
                         chars_per_line: int = 72, selected: Optional[int] = None) -> Optional[int]:
    """Draw the heatmap with its legend; return the index of the token the user clicked, if any."""
    figure = token_heatmap_figure(tokens, measure=measure, chars_per_line=chars_per_line, selected=selected)
    event = st.plotly_chart(figure, key=f"{key}_heatmap", on_select="rerun", selection_mode="points",
                            config=figure_config("token-heatmap"), width="stretch")
    st.caption(MEASURES[measure].legend)
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    return int(points[0]["point_index"]) if points else None
