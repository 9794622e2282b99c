"""SAR's relevance weight on every answer token next to the token's entropy."""
from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go
import streamlit as st

from backend.schemas import TokenRelevance
from components.figure_config import figure_config
from components.text_safety import escape_plotly

WEIGHT_COLOUR = "#6a51a3"
ENTROPY_COLOUR = "#d7301f"


def sar_weights_figure(tokens: Sequence[TokenRelevance]) -> go.Figure:
    """Bars: each token's normalised relevance weight (left axis); line: its entropy in nats (right axis)."""
    steps = list(range(len(tokens)))
    labels = [escape_plotly(repr(t.text)) for t in tokens]
    figure = go.Figure()
    figure.add_trace(go.Bar(x=steps, y=[t.weight for t in tokens], name="relevance weight",
                            marker_color=WEIGHT_COLOUR, customdata=[[l, t.similarity_without]
                                                                    for l, t in zip(labels, tokens)],
                            hovertemplate="%{customdata[0]}: weight %{y:.3f}<br>similarity without it "
                                          "%{customdata[1]:.4f}<extra></extra>"))
    figure.add_trace(go.Scatter(x=steps, y=[t.entropy for t in tokens], name="entropy (nats)", yaxis="y2",
                                mode="lines+markers", line=dict(color=ENTROPY_COLOUR), customdata=labels,
                                hovertemplate="%{customdata}: entropy %{y:.3f} nats<extra></extra>"))
    figure.update_layout(
        height=320, margin=dict(l=8, r=8, t=36, b=8), legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0),
        xaxis=dict(tickvals=steps, ticktext=labels, tickangle=-45, title="answer token"),
        yaxis=dict(title=dict(text="relevance weight", font=dict(color=WEIGHT_COLOUR)), rangemode="tozero"),
        yaxis2=dict(title=dict(text="entropy (nats)", font=dict(color=ENTROPY_COLOUR)), overlaying="y",
                    side="right", rangemode="tozero", showgrid=False))
    return figure


def render_sar_weights(tokens: Sequence[TokenRelevance], *, key: str) -> None:
    """The weights figure with how to read it."""
    st.plotly_chart(sar_weights_figure(tokens), key=f"{key}_sar", config=figure_config("sar-weights"), width="stretch")
    st.caption("Relevance = 1 − cosine similarity between prompt + answer and prompt + answer without the token "
               "(embedding model); weights are relevances normalised to sum to 1. TokenSAR weighs each token's "
               "surprisal by its weight, so hesitation on an irrelevant token counts for little.")
