"""Sequence scores: an overview chart with every score turned to point the same way, and the full table with
raw and normalised values and a sentence per score on what it measures."""
from __future__ import annotations

from typing import Optional, Sequence

import plotly.graph_objects as go
import streamlit as st

from backend.schemas import SequenceScore
from components.figure_config import figure_config

UNCERTAIN_COLOUR = "#d7301f"
CONFIDENT_COLOUR = "#2b6cb0"
FAILED = "—"


def format_number(value: Optional[float]) -> str:
    """4 significant digits, scientific when very large or small; a dash for a missing value."""
    if value is None:
        return FAILED
    return f"{value:.3g}" if value != 0 and (abs(value) >= 1e4 or abs(value) < 1e-3) else f"{value:.4g}"


def uncertainty_share(score: SequenceScore) -> Optional[float]:
    """The normalised value turned so that 1 = most uncertain (1 - normalised for higher-is-confident scores)."""
    if score.normalized is None:
        return None
    return score.normalized if score.higher_is == "uncertain" else 1.0 - score.normalized


def score_overview_figure(scores: Sequence[SequenceScore]) -> go.Figure:
    """Horizontal bars, one per score with a value: its normalised value oriented so that longer = more uncertain.

    Red bars are scores where higher already meant uncertain; blue ones were flipped (1 - normalised).
    """
    shown = [s for s in reversed(scores) if uncertainty_share(s) is not None]
    figure = go.Figure(go.Bar(
        orientation="h", x=[uncertainty_share(s) for s in shown],
        y=[s.label + (" (estimate)" if "value_bounds" in s.details else "") for s in shown],
        marker_color=[UNCERTAIN_COLOUR if s.higher_is == "uncertain" else CONFIDENT_COLOUR for s in shown],
        text=[f"raw {format_number(s.value)}" for s in shown], textposition="outside", cliponaxis=False,
        customdata=[[s.normalization, s.higher_is] for s in shown],
        hovertemplate="%{y}: %{x:.3f} towards uncertain<br>higher raw value = more %{customdata[1]}"
                      "<br>normalised: %{customdata[0]}<extra></extra>",
    ))
    figure.update_layout(height=60 + 24 * len(shown), margin=dict(l=8, r=90, t=8, b=40), showlegend=False,
                         xaxis=dict(range=[0, 1.0], title="normalised, 0 = confident … 1 = uncertain"),
                         yaxis=dict(automargin=True))
    return figure


def with_bounds(value: Optional[float], bounds: Optional[Sequence[Optional[float]]]) -> str:
    """A value with its bounds when it is an estimate (a served model's token entropies): "0.89 (0.76 to 1.02)"."""
    if value is None or not bounds or None in bounds:
        return format_number(value)
    return f"≈ {format_number(value)} ({format_number(bounds[0])} to {format_number(bounds[1])})"


def score_rows(scores: Sequence[SequenceScore]) -> list[dict[str, str]]:
    """One row per score for a table: label, raw and normalised values (an estimate with its valid bounds), direction,
    range, what it measures."""
    return [{
        "Score": s.label + (" (estimate)" if "value_bounds" in s.details else ""),
        "Value": with_bounds(s.value, s.details.get("value_bounds")),
        "Normalised": with_bounds(s.normalized, s.details.get("normalized_bounds")),
        "Higher is": f"more {s.higher_is}",
        "Range": s.value_range,
        "Normalisation": s.normalization,
        "What it measures": s.description + (f" Not computed: {s.details['error']}" if "error" in s.details else "")
        + (" An estimate on this model (a served model's top-k): the exact value lies within the bounds shown."
           if "value_bounds" in s.details else ""),
    } for s in scores]


def render_sequence_scores(scores: Sequence[SequenceScore], *, key: str) -> None:
    """The overview chart and the table of all scores (every cell wrapped, so each sentence reads in full)."""
    st.plotly_chart(score_overview_figure(scores), key=f"{key}_overview", config=figure_config("sequence-scores"),
                    width="stretch")
    st.caption("Bars: each score's normalised value, turned so that a longer bar always means more uncertain "
               "(red: higher raw value = more uncertain; blue: higher = more confident, shown as 1 − normalised).")
    with st.container(key=f"{key}_table"):
        st.table(score_rows(scores), hide_index=True)  # a static table wraps long text; a data grid cuts it off
