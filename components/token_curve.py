"""Per-token curve: entropy (nats, left axis) and probability (right axis) along the answer."""
from __future__ import annotations

from typing import Optional, Sequence

import plotly.graph_objects as go
import streamlit as st

from backend.schemas import TokenScore
from components import figure_cache
from components.figure_config import figure_config
from components.text_safety import escape_plotly

ENTROPY_COLOUR = "#d7301f"
PROB_COLOUR = "#2b6cb0"
MAX_TICK_LABELS = 40


def step_axis(labels: Sequence[str]) -> dict:
    """x axis by answer step; short answers get their tokens as tick labels."""
    if len(labels) > MAX_TICK_LABELS:
        return dict(title="answer token (step)")
    return dict(title="answer token", tickvals=list(range(len(labels))), ticktext=labels, tickangle=-45)


def token_curve_figure(tokens: Sequence[TokenScore], *, selected: Optional[int] = None,
                       scale: float = 1.0) -> go.Figure:
    """Lines of entropy and probability by answer position (0 = first answer token).

    selected: index into tokens to mark with a vertical line. scale: type size and height against the page's
    (2 for a presenter view).
    """
    steps = list(range(len(tokens)))
    mode = "lines+markers" if len(tokens) <= MAX_TICK_LABELS else "lines"
    labels = [escape_plotly(repr(t.text)) for t in tokens]
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=steps, y=[t.entropy for t in tokens], name="entropy (nats)", mode=mode,
                                line=dict(color=ENTROPY_COLOUR), customdata=labels,
                                hovertemplate="step %{x}: %{customdata}<br>entropy %{y:.3f} nats<extra></extra>"))
    figure.add_trace(go.Scatter(x=steps, y=[t.prob for t in tokens], name="probability", mode=mode,
                                yaxis="y2", line=dict(color=PROB_COLOUR, dash="dot"), customdata=labels,
                                hovertemplate="step %{x}: %{customdata}<br>probability %{y:.3f}<extra></extra>"))
    if selected is not None and 0 <= selected < len(tokens):
        figure.add_vline(x=selected, line=dict(color="#555555", width=1, dash="dash"))
    figure.update_layout(
        height=round(300 * scale), margin=dict(l=8, r=8, t=round(36 * scale), b=8), hovermode="x unified",
        font=dict(size=round(12 * scale)),
        legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0),
        xaxis=step_axis(labels),
        yaxis=dict(title=dict(text="entropy (nats)", font=dict(color=ENTROPY_COLOUR)), rangemode="tozero"),
        yaxis2=dict(title=dict(text="probability", font=dict(color=PROB_COLOUR)), overlaying="y", side="right",
                    range=[0, 1.05], tickvals=[0, 0.25, 0.5, 0.75, 1.0], showgrid=False),
    )
    return figure


def render_token_curve(tokens: Sequence[TokenScore], *, key: str, selected: Optional[int] = None,
                       scale: float = 1.0) -> None:
    """Draw the curve in the current Streamlit container."""
    figure = figure_cache.curve_figure(figure_cache.tokens_digest(tokens), tokens, selected, scale)
    st.plotly_chart(figure, key=f"{key}_curve",
                    config=figure_config("token-curve"), width="stretch")
