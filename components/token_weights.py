"""Weights on the text itself: each token (or word) drawn in reading order, its box coloured by a weight such as
an attention weight or a saliency score. The token being explained is outlined; tokens without a weight (those
after it) stay grey.

Signed weights use a diverging scale (blue = negative, white = 0, red = positive) symmetric around 0; unsigned
weights run white -> purple from 0. The scale's end is the largest |weight| shown, stated in the legend.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import plotly.graph_objects as go
import streamlit as st

from components.figure_config import figure_config
from components.text_safety import escape_plotly
from components.token_heatmap import FONT, LINE_HEIGHT_PX, TokenBox, layout_tokens

SIGNED_SCALE = [[0.0, "#2166ac"], [0.25, "#92c5de"], [0.5, "#f7f7f7"], [0.75, "#f4a582"], [1.0, "#b2182b"]]
UNSIGNED_SCALE = [[0.0, "#fcfbfd"], [0.4, "#bcbddc"], [0.75, "#807dba"], [1.0, "#3f007d"]]
NO_WEIGHT_COLOUR = "#e4e4e4"
COLORBAR_SPACE_PX = 70
LIGHT_TEXT_ABOVE = 0.55


@dataclass(frozen=True)
class WeightedText:
    """What to draw. labels: (n,) token or word texts; weights: (n,) with None where there is none;
    positions: (n,) first token position of each unit (shown on hover); highlight: index to outline;
    breaks: indices of units that start a new line (e.g. the answer's first unit)."""

    labels: Sequence[str]
    weights: Sequence[Optional[float]]
    positions: Sequence[int]
    signed: bool
    value_label: str
    highlight: Optional[int] = None
    breaks: Sequence[int] = ()


def colour_limit(weights: Sequence[Optional[float]]) -> float:
    """The largest |weight| present (1.0 when there is none or all are 0), the end of the colour scale."""
    present = [abs(w) for w in weights if w is not None]
    return max(present) if present and max(present) > 0 else 1.0


def over_shown(weights: Sequence[Optional[float]]) -> list[Optional[float]]:
    """The weights divided by the sum of those present, so the shown units add up to 1 (a view of a row whose
    rest falls on hidden positions); None stays None, and a row summing to 0 is returned unchanged."""
    total = sum(w for w in weights if w is not None)
    return [None if w is None else w / total for w in weights] if total > 0 else list(weights)


def layout_with_breaks(labels: Sequence[str], breaks: Sequence[int], chars_per_line: int) -> list[TokenBox]:
    """layout_tokens, with each index in breaks starting a new line."""
    cuts = sorted({b for b in breaks if 0 < b < len(labels)})
    boxes: list[TokenBox] = []
    for lo, hi in zip([0] + cuts, cuts + [len(labels)]):
        offset = boxes[-1].line + 1 if boxes else 0
        boxes += [TokenBox(b.line + offset, b.column, b.width, b.label)
                  for b in layout_tokens(list(labels[lo:hi]), chars_per_line)]
    return boxes


def text_colours(weights: Sequence[Optional[float]], limit: float) -> list[str]:
    """White text on boxes coloured past LIGHT_TEXT_ABOVE of the scale (dark), near-black elsewhere."""
    return ["#ffffff" if w is not None and abs(w) / limit > LIGHT_TEXT_ABOVE else FONT["color"] for w in weights]


@dataclass(frozen=True)
class WeightStyle:
    """How the weighted trace draws its units: colour values (n,) (None -> 0), the scale's ends, text colours
    (n,) and hover texts (n,)."""

    colours: list[float]
    cmin: float
    cmax: float
    text_colours: list[str]
    hover: list[str]


def weight_style(data: WeightedText) -> WeightStyle:
    """The colours, scale, text colours and hover texts token_weights_figure gives the units of `data`."""
    limit = colour_limit(data.weights)
    hover = [f"<b>{escape_plotly(repr(label))}</b> (position {position})<br>"
             + (f"{escape_plotly(data.value_label)}: {w:.4g}" if w is not None else "no weight (after the token)")
             for label, position, w in zip(data.labels, data.positions, data.weights)]
    return WeightStyle(colours=[0.0 if w is None else w for w in data.weights], cmin=-limit if data.signed else 0.0,
                       cmax=limit, text_colours=text_colours(data.weights, limit), hover=hover)


def token_weights_figure(data: WeightedText, *, chars_per_line: int = 80) -> go.Figure:
    """Horizontal bars laid out like a paragraph (one bar per unit), coloured by weight.

    Units without a weight are drawn grey; the highlighted unit gets a thick black outline.
    """
    if len(data.labels) != len(data.weights) or len(data.labels) != len(data.positions):
        raise ValueError(f"{len(data.labels)} labels, {len(data.weights)} weights, {len(data.positions)} positions")
    boxes = layout_with_breaks(data.labels, data.breaks, chars_per_line)
    n_lines = (boxes[-1].line + 1) if boxes else 1
    style = weight_style(data)
    limit, cmin, colours, hover = style.cmax, style.cmin, style.colours, style.hover
    colorscale = SIGNED_SCALE if data.signed else UNSIGNED_SCALE
    highlight = [i == data.highlight for i in range(len(data.labels))]
    weighted = go.Bar(
        orientation="h", y=[b.line for b in boxes], x=[b.width for b in boxes], base=[b.column for b in boxes],
        width=0.86, text=[escape_plotly(b.label) for b in boxes], textposition="inside", insidetextanchor="middle",
        textangle=0, constraintext="none", textfont={**FONT, "color": style.text_colours},
        hovertext=hover, hoverinfo="text",
        marker=dict(color=colours, colorscale=colorscale, cmin=cmin, cmax=limit,
                    line=dict(color=["#111111" if h else "#bbbbbb" for h in highlight],
                              width=[3 if h else 0.5 for h in highlight]),
                    colorbar=dict(title=dict(text=escape_plotly(data.value_label), side="top"), orientation="h",
                                  thickness=10, len=0.5, x=1.0, xanchor="right", yanchor="top",
                                  y=-6 / (LINE_HEIGHT_PX * n_lines))),
        showlegend=False)
    figure = go.Figure(weighted)
    missing = [i for i, w in enumerate(data.weights) if w is None]
    if missing:
        figure.add_trace(go.Bar(
            orientation="h", y=[boxes[i].line for i in missing], x=[boxes[i].width for i in missing],
            base=[boxes[i].column for i in missing], width=0.86, marker=dict(color=NO_WEIGHT_COLOUR),
            text=[escape_plotly(boxes[i].label) for i in missing], textposition="inside",
            insidetextanchor="middle", textangle=0, constraintext="none", textfont=FONT,
            hovertext=[hover[i] for i in missing], hoverinfo="text", showlegend=False))
    figure.update_xaxes(range=[-0.5, chars_per_line + 0.5], visible=False, fixedrange=True)
    figure.update_yaxes(range=[n_lines - 0.5, -0.5], visible=False, fixedrange=True)
    figure.update_layout(height=16 + LINE_HEIGHT_PX * n_lines + COLORBAR_SPACE_PX, barmode="overlay",
                         margin=dict(l=4, r=4, t=8, b=8 + COLORBAR_SPACE_PX), plot_bgcolor="white",
                         paper_bgcolor="white", bargap=0.1, dragmode=False,
                         hoverlabel=dict(font=dict(family=FONT["family"], size=13), align="left"))
    return figure


def scale_caption(data: WeightedText) -> str:
    """One line for under the figure: what the colours mean and where the scale ends."""
    limit = colour_limit(data.weights)
    if data.signed:
        return (f"Red = positive, blue = negative, white = 0; the scale ends at ±{limit:.3g} (the largest |value| "
                f"shown). Grey: no value.")
    return f"White = 0, deep purple = {limit:.3g} (the largest value shown). Grey: no value."


def render_token_weights(data: WeightedText, *, key: str, chars_per_line: int = 80, caption: bool = True) -> None:
    """Draw the weighted text with a caption explaining its colour scale (caption=False: the caller draws it,
    e.g. a client view that redraws it with the weights)."""
    st.plotly_chart(token_weights_figure(data, chars_per_line=chars_per_line), key=f"{key}_token_weights",
                    config=figure_config("token-weights"), width="stretch")
    if caption:
        st.caption(scale_caption(data))

