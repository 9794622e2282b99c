"""Saliency maps drawn over the image the model saw, with an adjustable opacity, several side by side.

Low values are transparent, so the photo shows through where a method finds nothing. Unsigned maps run from
transparent to red; signed maps (integrated gradients, occlusion) from blue (against the target) through
transparent to red (for it). Every map is scaled to its own strength: colours span 0 to the 99.5th percentile of
|value| (stronger values are clipped), or to the largest |value| when that percentile is 0 (a map that is zero but
for a few pixels), and the caption states that number and its units.
"""
from __future__ import annotations

import base64
from typing import Sequence

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from backend.schemas.image import SaliencyMap
from components.figure_config import figure_config
from components.text_safety import escape_plotly

CLIP_PERCENTILE = 99.5
UNSIGNED_SCALE = [[0.0, "rgba(255, 255, 178, 0)"], [0.25, "rgba(254, 204, 92, 0.35)"],
                  [0.6, "rgba(253, 141, 60, 0.75)"], [1.0, "rgba(189, 0, 38, 1)"]]
SIGNED_SCALE = [[0.0, "rgba(33, 102, 172, 1)"], [0.3, "rgba(103, 169, 207, 0.6)"], [0.5, "rgba(247, 247, 247, 0)"],
                [0.7, "rgba(239, 138, 98, 0.6)"], [1.0, "rgba(178, 24, 43, 1)"]]
FIGURE_PX = 300


def colour_limit(values: np.ndarray) -> float:
    """The |value| at which colours saturate: the CLIP_PERCENTILE-th percentile of |value|, or the largest |value|
    when that percentile is 0 (nonzero pixels rarer than 1 - CLIP_PERCENTILE %); 1 for an empty or all-zero map."""
    magnitude = np.abs(values)
    if not magnitude.size or float(magnitude.max()) == 0.0:
        return 1.0
    limit = float(np.percentile(magnitude, CLIP_PERCENTILE))
    return limit if limit > 0 else float(magnitude.max())


def scale_note(saliency: SaliencyMap, explained: str) -> str:
    """What full colour means: the value the colours are scaled to, where it comes from, and its units.
    explained: the target's name with its unit, e.g. "the predictive entropy (nats)"; "" when unknown."""
    values = np.asarray(saliency.values, dtype=np.float64)
    peak = float(np.abs(values).max()) if values.size else 0.0
    limit = colour_limit(values)
    units = f", in units of {explained}" if explained else ""
    sign = "±" if saliency.signed else ""
    if limit >= peak:
        return f"colours scaled to the map's max |value|, which is {sign}{limit:.3g}{units}"
    return (f"colours scaled to {sign}{limit:.3g}, the map's {CLIP_PERCENTILE:g}th-percentile |value|{units} "
            f"(its max, {peak:.3g}, and the few pixels near it are clipped)")


def png_data_uri(png: bytes) -> str:
    """A data: URI plotly's Image trace can show."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def saliency_overlay_figure(image_png: bytes, saliency: SaliencyMap, *, opacity: float = 0.6,
                            title: str = "") -> go.Figure:
    """The image with the map on top. image_png and saliency share one size (rows x cols); opacity in [0, 1]
    scales the whole overlay (0 = only the photo)."""
    values = np.asarray(saliency.values, dtype=np.float64)
    limit = colour_limit(values)
    rows, cols = saliency.shape
    figure = go.Figure(go.Image(source=png_data_uri(image_png), x0=0, y0=0, dx=1, dy=1, hoverinfo="skip"))
    figure.add_trace(go.Heatmap(
        z=values, x0=0, dx=1, y0=0, dy=1, opacity=opacity, zsmooth=False,
        colorscale=SIGNED_SCALE if saliency.signed else UNSIGNED_SCALE,
        zmin=-limit if saliency.signed else 0.0, zmax=limit,
        colorbar=dict(thickness=10, len=0.8, tickformat=".2g"),
        hovertemplate="row %{y}, col %{x}<br>value %{z:.4g}<extra></extra>"))
    figure.update_xaxes(visible=False, range=[-0.5, cols - 0.5], constrain="domain")
    figure.update_yaxes(visible=False, range=[rows - 0.5, -0.5], scaleanchor="x", constrain="domain")
    figure.update_layout(height=FIGURE_PX, margin=dict(l=0, r=0, t=28 if title else 0, b=0),
                         title=dict(text=escape_plotly(title), font=dict(size=14)) if title else None,
                         plot_bgcolor="white", dragmode=False)
    return figure


def map_caption(saliency: SaliencyMap, explained: str = "") -> str:
    """What the colours mean and what they are scaled to, the map's range, its cost and (integrated gradients)
    its convergence delta. explained: as for scale_note."""
    direction = ("red = raises the target, blue = lowers it" if saliency.signed
                 else "red = strongest influence on the target")
    zero = saliency.summary.maximum == 0 and saliency.summary.minimum == 0
    parts = [direction] + ([] if zero else [scale_note(saliency, explained)]) + [
             f"values {saliency.summary.minimum:.3g} to {saliency.summary.maximum:.3g}",
             f"{saliency.passes} forward pass{'es' if saliency.passes != 1 else ''}, {saliency.seconds:.1f} s"]
    if saliency.convergence_delta is not None:
        change = float(np.sum(saliency.values)) - saliency.convergence_delta  # f(image) - f(black)
        share = (f", {abs(saliency.convergence_delta) / abs(change):.0%} of f(image) - f(black) = {change:.3g}"
                 if change else "")
        parts.append(f"convergence delta {saliency.convergence_delta:.3g}{share} (0 = exact; more steps "
                     f"shrink it)")
    if saliency.summary.maximum <= 0 and not saliency.signed:
        parts.append("the map is zero everywhere: no region pushes the target up by this method")
    return " · ".join(parts)


def render_saliency_grid(image_png: bytes, maps: Sequence[SaliencyMap], *, key: str, opacity: float,
                         columns: int = 3, explained: str = "") -> None:
    """The overlays in rows of `columns`, each with its caption (explained: as for scale_note)."""
    for start in range(0, len(maps), columns):
        cells = st.columns(columns)
        for cell, saliency in zip(cells, maps[start:start + columns]):
            with cell:
                st.plotly_chart(saliency_overlay_figure(image_png, saliency, opacity=opacity, title=saliency.label),
                                key=f"{key}_overlay_{saliency.method}", config=figure_config("saliency-overlay"),
                                width="stretch")
                st.caption(map_caption(saliency, explained))
