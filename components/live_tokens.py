"""Tokens as they are generated: a light HTML rendering (no figure), each token's background coloured by its
probability on the heatmap's scale (components.measures: pale = confident, deep red = uncertain), so a redraw every
fraction of a second stays cheap."""
from __future__ import annotations

import html
from typing import Sequence

from backend.schemas import TokenScore
from components.measures import MEASURES

LIVE_LEGEND = "Colour: the model's probability for each token as it is generated (pale = confident, red = unsure)."


def hex_rgb(colour: str) -> tuple[int, int, int]:
    """'#rrggbb' as (r, g, b) in 0..255."""
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def scale_colour(scale: Sequence[Sequence], position: float) -> str:
    """The colour at `position` in [0, 1] (clipped) of a plotly scale [[stop, '#rrggbb'], ...] with increasing
    stops, interpolated linearly in RGB between its two neighbouring stops."""
    position = min(1.0, max(0.0, position))
    for (low, low_colour), (high, high_colour) in zip(scale, scale[1:]):
        if position <= high:
            weight = (position - low) / (high - low) if high > low else 0.0
            mixed = [round(a + (b - a) * weight) for a, b in zip(hex_rgb(low_colour), hex_rgb(high_colour))]
            return "#{:02x}{:02x}{:02x}".format(*mixed)
    return scale[-1][1]


def probability_colour(prob: float) -> str:
    """The background of a token of probability `prob`, as the heatmap's Probability measure draws it."""
    measure = MEASURES["prob"]
    return scale_colour(measure.colorscale, (prob - measure.cmin) / (measure.cmax - measure.cmin))


def live_tokens_html(tokens: Sequence[TokenScore]) -> str:
    """The tokens as one HTML block of coloured spans (text escaped, white space kept, the probability on hover)."""
    spans = "".join(
        f'<span title="p = {t.prob:.3f}" style="background:{probability_colour(t.prob)};border-radius:3px;'
        f'padding:1px 0">{html.escape(t.text)}</span>' for t in tokens)
    return (f'<div data-testid="uqlens-live-tokens" style="font-family:DejaVu Sans Mono,Menlo,Consolas,monospace;'
            f'font-size:15px;line-height:1.9;white-space:pre-wrap;color:#111111">{spans}</div>')
