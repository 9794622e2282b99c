"""Attention as matrices: one map's query x key window as a heatmap, and every head's thumbnail as small multiples
(one tile per layer and head) in a single heatmap that a click selects from.
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from backend.schemas.text_attention import MATRIX_DECIMALS, AttentionMatrix, HeadGrid
from components.figure_config import figure_config
from components.text_safety import escape_plotly
from components.token_heatmap import display_text, pick_callback

ATTENTION_SCALE = [[0.0, "#ffffff"], [0.3, "#c6dbef"], [0.65, "#4292c6"], [1.0, "#08306b"]]
TILE_PX = 26
MATRIX_CELL_PX = 7
MAX_LABEL_CHARS = 14


def axis_labels(labels: Sequence[str], positions: Sequence[int]) -> list[str]:
    """Unique, readable category names: "position·text", text shortened, whitespace made visible, escaped."""
    names = []
    for label, position in zip(labels, positions):
        shown = display_text(label)
        shown = shown if len(shown) <= MAX_LABEL_CHARS else shown[:MAX_LABEL_CHARS - 1] + "…"
        names.append(escape_plotly(f"{position}·{shown}"))
    return names


def colour_ceiling(values: Sequence[Sequence[float]], start: int) -> float:
    """Where the colour scale ends: the largest weight, leaving out the first token's column when the window
    starts at token 0 (that column is usually an attention sink and would wash everything else out). values:
    the window's rows, square or only up to the diagonal."""
    skip = 1 if start == 0 and len(values) > 1 else 0
    rest = [v for row in values for v in row[skip:]]
    ceiling = max(rest) if rest else 0.0
    return ceiling if ceiling > 0 else 1.0


def causal_values(values: Sequence[Sequence[float]]) -> list[list[Optional[float]]]:
    """The matrix with the cells above the diagonal (keys after the query, never attended) blanked, and the
    rest rounded to MATRIX_DECIMALS (as every_map sends them)."""
    return [[round(v, MATRIX_DECIMALS) if j <= i else None for j, v in enumerate(row)] for i, row in enumerate(values)]


def attention_matrix_figure(matrix: AttentionMatrix, *, title: str) -> go.Figure:
    """Heatmap of the window: rows = queries (top to bottom), columns = keys; blank above the diagonal."""
    names = axis_labels(matrix.labels, matrix.positions)
    z = causal_values(matrix.values)
    ceiling = colour_ceiling([row[:i + 1] for i, row in enumerate(z)], matrix.start)
    size = len(names)
    figure = go.Figure(go.Heatmap(
        z=z, x=names, y=names, colorscale=ATTENTION_SCALE, zmin=0.0, zmax=ceiling,
        hovertemplate="query %{y}<br>key %{x}<br>weight %{z:.4f}<extra></extra>", hoverongaps=False,
        colorbar=dict(title=dict(text="weight", side="right"), thickness=12)))
    figure.update_xaxes(type="category", tickangle=-60, title="key (attended to)", tickfont=dict(size=10))
    figure.update_yaxes(type="category", autorange="reversed", title="query (attending)", tickfont=dict(size=10))
    figure.update_layout(title=dict(text=escape_plotly(title), font=dict(size=14)),
                         height=int(min(900, max(320, 160 + MATRIX_CELL_PX * size))),
                         margin=dict(l=8, r=8, t=40, b=8), plot_bgcolor="#fafafa")
    return figure


def grid_values(grid: HeadGrid) -> list[list[Optional[float]]]:
    """One matrix of all thumbnails, layer tiles stacked downwards and head tiles side by side, one blank cell
    between tiles; each tile scaled to its own maximum (so every head's pattern is visible)."""
    size = grid.size
    layers, heads = len(grid.values), len(grid.values[0]) if grid.values else 0
    rows: list[list[Optional[float]]] = [[None] * (heads * (size + 1)) for _ in range(layers * (size + 1))]
    for layer, tiles in enumerate(grid.values):
        for head, tile in enumerate(tiles):
            peak = max((v for row in tile for v in row), default=0.0) or 1.0
            for r, row in enumerate(tile):
                for c, value in enumerate(row):
                    rows[layer * (size + 1) + r][head * (size + 1) + c] = value / peak
    return rows


def selected_tile_shape(size: int, layer: int, head: int) -> dict:
    """The outline of tile (layer, head), 0-based, in a grid of size x size thumbnails (a plotly shape)."""
    step = size + 1
    return dict(type="rect", x0=head * step - 0.7, x1=head * step + size - 0.3, y0=layer * step - 0.7,
                y1=layer * step + size - 0.3, line=dict(color="#d7301f", width=2.5))


def head_grid_figure(grid: HeadGrid, *, selected: Optional[tuple[int, int]] = None) -> go.Figure:
    """Small multiples of every head: tile (layer, head) at row layer, column head, 1-based labels.

    A transparent marker sits on each tile's centre (customdata = [layer, head], 0-based) so a click selects it;
    the selected tile is outlined.
    """
    size, layers = grid.size, len(grid.values)
    heads = len(grid.values[0]) if layers else 0
    step = size + 1
    centre = (size - 1) / 2
    values = np.array(grid_values(grid), dtype=float)  # None -> NaN (a gap); an array is validated as one value
    figure = go.Figure(go.Heatmap(z=values, colorscale=ATTENTION_SCALE, zmin=0, zmax=1, showscale=False,
                                  hoverinfo="skip"))
    figure.add_trace(go.Scatter(
        x=[h * step + centre for _ in range(layers) for h in range(heads)],
        y=[layer * step + centre for layer in range(layers) for _ in range(heads)],
        customdata=[[layer, h] for layer in range(layers) for h in range(heads)], mode="markers",
        text=[f"layer {layer + 1}, head {h + 1}" for layer in range(layers) for h in range(heads)],
        marker=dict(size=TILE_PX - 4, symbol="square", color="rgba(0,0,0,0.01)"), showlegend=False,
        hovertemplate="%{text}<extra>click to show</extra>"))
    if selected is not None:
        figure.add_shape(**selected_tile_shape(size, *selected))
    figure.update_xaxes(tickvals=[h * step + centre for h in range(heads)], ticktext=[str(h + 1) for h in range(heads)],
                        title="head", side="top", fixedrange=True, showgrid=False, zeroline=False)
    figure.update_yaxes(tickvals=[layer * step + centre for layer in range(layers)],
                        ticktext=[str(layer + 1) for layer in range(layers)], title="layer", autorange="reversed",
                        fixedrange=True, showgrid=False, zeroline=False)
    figure.update_layout(height=70 + layers * TILE_PX, width=90 + heads * TILE_PX, margin=dict(l=8, r=8, t=50, b=8),
                         plot_bgcolor="white", dragmode=False, clickmode="event+select")
    return figure


def render_attention_matrix(matrix: AttentionMatrix, *, key: str, title: str) -> None:
    """The window heatmap with a caption saying how the numbers were made."""
    st.plotly_chart(attention_matrix_figure(matrix, title=title), key=f"{key}_attention_matrix",
                    config=figure_config("attention-matrix"), width="stretch")
    clipped = " The first token's column is left out of the colour range (an attention sink) and clipped." \
        if matrix.start == 0 and len(matrix.labels) > 1 else ""
    st.caption(f"{matrix.normalisation[0].upper()}{matrix.normalisation[1:]}. Blank cells: later tokens, which a "
               f"causal model cannot attend to.{clipped}")


def clicked_head(event) -> Optional[tuple[int, int]]:
    """The (layer, head), 0-based, of the tile a selection event of the head grid picked, if any."""
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    chosen = [p for p in points if p.get("customdata") is not None]
    return (int(chosen[0]["customdata"][0]), int(chosen[0]["customdata"][1])) if chosen else None


def render_head_grid(grid: HeadGrid, *, key: str, selected: Optional[tuple[int, int]] = None,
                     on_pick: Optional[Callable[[tuple[int, int]], None]] = None,
                     in_browser: bool = False) -> Optional[tuple[int, int]]:
    """The small multiples; returns the (layer, head) the user clicked, 0-based, if any. on_pick, when given,
    receives it in a callback before the rerun the click starts. in_browser: a click starts no rerun (a client
    view handles it, components.attention_client); returns None."""
    figure = head_grid_figure(grid, selected=selected)
    if in_browser:
        st.plotly_chart(figure, key=f"{key}_head_grid", config=figure_config("head-grid"))
        event = None
    else:
        event = st.plotly_chart(figure, key=f"{key}_head_grid", selection_mode="points",
                                config=figure_config("head-grid"),
                                on_select=pick_callback(f"{key}_head_grid", on_pick, clicked_head))
    st.caption(f"Every head over the same window, {grid.pooling}; each tile scaled to its own maximum. "
               f"Click a tile to show that head.")
    return clicked_head(event)
