"""Token heatmap: the text drawn token by token, each token's box coloured by an uncertainty measure.

Tokens wrap into lines like a paragraph (monospace columns), so long answers stay readable. Hover shows the
token's numbers and top alternatives; a click selects it (the page reads the selection).
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

import plotly.graph_objects as go
import streamlit as st

from backend.schemas import TokenScore
from components import figure_cache
from components.figure_config import figure_config
from components.measures import (MEASURES, UNCERTAIN_SCALE, Measure, colorbar_ticks, colorbar_title, colour_position,
                                 entropy_label, is_token, rank_label)
from components.text_safety import escape_plotly
from components.token_layout import (EMPTY_TOKEN, TokenBox, GlyphUnit, display_text, layout_tokens, layout_units,
                                     token_boxes)

LINE_HEIGHT_PX = 30
COLORBAR_GAP_PX = 6
COLORBAR_SPACE_PX = 70
FONT = dict(family="DejaVu Sans Mono, Menlo, Consolas, monospace", size=15, color="#111111")
HOVER_FONT_PX = 13
HOVER_LINE_PX = 18
HOVER_PAD_PX = 16

__all__ = ["EMPTY_TOKEN", "FONT", "LINE_HEIGHT_PX", "TokenBox", "display_text", "hover_text", "layout_tokens",
           "min_height_for_hover", "render_token_heatmap", "token_heatmap_figure"]


def hover_text(token: TokenScore, note: str = "") -> str:
    """Hover box: the token, its numbers, and its top alternatives (escaped; plotly reads tags in it); note, when
    given, is a line of plain text put under the title (escaped here)."""
    alternatives = "<br>".join(
        f"{'▶ ' if is_token(alt, token) else '   '}{escape_plotly(repr(alt.text))} {alt.prob:.3f}"
        for alt in token.top_k)
    return (f"<b>{escape_plotly(repr(token.text))}</b> (position {token.position}, id {token.id})<br>"
            + (f"<i>{escape_plotly(note)}</i><br>" if note else "")
            + f"probability {token.prob:.4f} · log-prob {token.logprob:.3f}<br>"
            f"entropy {entropy_label(token)} nats · rank {rank_label(token)} · margin {token.margin:.3f}<br>"
            f"<i>top alternatives</i><br>{alternatives}")


def glyph_notes(tokens: Sequence[TokenScore], units: Sequence[GlyphUnit]) -> list[str]:
    """Per token: "" alone, or for a token of a multi-token glyph unit which part of which glyph it is."""
    notes = [""] * len(tokens)
    for unit in units:
        if len(unit.members) > 1:
            first, last = tokens[unit.members[0]].position, tokens[unit.members[-1]].position
            for part, index in enumerate(unit.members, start=1):
                notes[index] = (f"part {part} of {len(unit.members)} of the character {unit.label!r} "
                                f"(tokens at positions {first}-{last}; its bytes are split between them)")
    return notes


def min_height_for_hover(hovers: Sequence[str]) -> int:
    """Figure height in px that the tallest hover box fits in. Plotly drops a hover box taller than the whole
    figure, so a one-line heatmap (116 px) showed none; a 9-line box is 160 px in Chromium at 13 px."""
    lines = max((hover.count("<br>") + 1 for hover in hovers), default=0)
    return HOVER_LINE_PX * lines + HOVER_PAD_PX


def glyph_trace(units: Sequence[GlyphUnit], font: dict) -> go.Scatter:
    """The labels of multi-token glyph units, each drawn once at the centre of its unit (no hover of its own:
    the unit's token boxes underneath keep theirs)."""
    shared = [unit for unit in units if len(unit.members) > 1]
    return go.Scatter(x=[u.column + u.width / 2 for u in shared], y=[u.line for u in shared], mode="text",
                      text=[escape_plotly(u.label) for u in shared], textfont=font, hoverinfo="skip",
                      showlegend=False, cliponaxis=False)


def token_heatmap_figure(tokens: Sequence[TokenScore], *, measure: str = "prob", chars_per_line: int = 72,
                         selected: Optional[int] = None, scale: float = 1.0, client_side: bool = False) -> go.Figure:
    """A figure of the tokens as coloured boxes in reading order (token_layout: right-to-left runs read right to
    left, a character split over byte tokens is drawn once over their shared box).

    tokens: the sequence to draw. measure: a key of MEASURES. selected: index into tokens to outline. scale:
    the type size and line height against the page's (2 for a presenter view read across a room). client_side:
    a click only emits plotly's event (a client view picks the token in the browser), not a selection.
    Trace 0, horizontal bars: y = line, base = first column, x = width in character cells; point i = tokens[i];
    colour: colour_position of the token's value on UNCERTAIN_SCALE, the colour bar labelled in the measure's
    units.
    Trace 1 (text only, when there are any): the labels of split characters.
    """
    spec: Measure = MEASURES[measure]
    font, line_px = {**FONT, "size": round(FONT["size"] * scale)}, LINE_HEIGHT_PX * scale
    units = layout_units([t.text for t in tokens], chars_per_line)
    boxes = token_boxes(units, len(tokens))
    n_lines = max((b.line for b in boxes), default=0) + 1
    values = [colour_position(spec, spec.value(t)) for t in tokens]
    tickvals, ticktext = colorbar_ticks(spec)
    outline = [3 if i == selected else 0.5 for i in range(len(tokens))]
    hovers = [hover_text(t, note) for t, note in zip(tokens, glyph_notes(tokens, units))]
    figure = go.Figure(go.Bar(
        orientation="h", y=[b.line for b in boxes], x=[b.width for b in boxes], base=[b.column for b in boxes],
        width=0.86, text=[escape_plotly(b.label) for b in boxes], textposition="inside",
        insidetextanchor="middle", textangle=0, constraintext="none", textfont=font,
        hovertext=hovers, hoverinfo="text",
        customdata=[[i] for i in range(len(tokens))],
        marker=dict(color=values, colorscale=UNCERTAIN_SCALE, cmin=0.0, cmax=1.0,
                    line=dict(color=["#111111" if i == selected else "#bbbbbb" for i in range(len(tokens))],
                              width=outline),
                    colorbar=dict(title=dict(text=colorbar_title(spec), side="top"), tickvals=tickvals,
                                  ticktext=ticktext, orientation="h", thickness=10, len=0.5, x=1.0, xanchor="right",
                                  y=-COLORBAR_GAP_PX / (line_px * n_lines), yanchor="top")),
        showlegend=False,
    ))
    if any(len(unit.members) > 1 for unit in units):
        figure.add_trace(glyph_trace(units, font))
    figure.update_xaxes(range=[-0.5, chars_per_line + 0.5], visible=False, fixedrange=True)
    figure.update_yaxes(range=[n_lines - 0.5, -0.5], visible=False, fixedrange=True)
    drawn = round(16 + line_px * n_lines + COLORBAR_SPACE_PX)
    height = max(drawn, min_height_for_hover(hovers))
    figure.update_layout(height=height, margin=dict(l=4, r=4, t=8, b=8 + COLORBAR_SPACE_PX + height - drawn),
                         plot_bgcolor="white", paper_bgcolor="white", bargap=0.1, dragmode=False,
                         hoverlabel=dict(font=dict(family=FONT["family"], size=HOVER_FONT_PX), align="left"),
                         clickmode="event" if client_side else "event+select")
    return figure


def clicked_token(event) -> Optional[int]:
    """The index of the token a selection event picked (a point of the bars, trace 0), if any."""
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    picked = [p for p in points if p.get("curve_number", 0) == 0]
    return int(picked[0]["point_index"]) if picked else None


def pick_callback(widget_key: str, on_pick: Optional[Callable[[int], None]], read: Callable[[object], object]):
    """The on_select of a chart: "rerun", or with on_pick a callback that hands on_pick what `read` finds in the
    chart's selection event (when it finds something) before the rerun, so that the page draws the pick in that
    one run instead of calling st.rerun for a second one."""
    if on_pick is None:
        return "rerun"

    def picked() -> None:
        found = read(st.session_state.get(widget_key))
        if found is not None:
            on_pick(found)
    return picked


def render_token_heatmap(tokens: Sequence[TokenScore], *, key: str, measure: str = "prob",
                         chars_per_line: int = 72, selected: Optional[int] = None,
                         scale: float = 1.0, on_pick: Optional[Callable[[int], None]] = None,
                         client_side: bool = False) -> Optional[int]:
    """Draw the heatmap with its legend; return the index of the token the user clicked, if any. on_pick, when
    given, receives that index in a callback before the rerun the click starts. client_side: a client view
    (components.token_client) switches its measure and picks its tokens in the browser, and draws the legend:
    the chart starts no rerun and returns None."""
    figure = figure_cache.heatmap_figure(figure_cache.tokens_digest(tokens), tokens, measure, chars_per_line,
                                         selected, scale, client_side)
    if client_side:
        st.plotly_chart(figure, key=f"{key}_heatmap", config=figure_config("token-heatmap"), width="stretch")
        return None
    event = st.plotly_chart(figure, key=f"{key}_heatmap", selection_mode="points",
                            on_select=pick_callback(f"{key}_heatmap", on_pick, clicked_token),
                            config=figure_config("token-heatmap"), width="stretch")
    st.caption(MEASURES[measure].legend)
    return clicked_token(event)
