"""Detail of one selected token: its numbers and the model's top alternatives at that step."""
from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from backend.schemas import TokenScore
from components.token_heatmap import escape_plotly

CHOSEN_COLOUR = "#d7301f"
OTHER_COLOUR = "#9fb7d0"


def alternatives_figure(token: TokenScore) -> go.Figure:
    """Horizontal bars of the top-k alternatives' probabilities, most likely on top; the produced token in red."""
    alternatives = list(reversed(token.top_k))
    figure = go.Figure(go.Bar(
        orientation="h", x=[a.prob for a in alternatives],
        y=[f"{escape_plotly(repr(a.text))} " for a in alternatives],
        marker_color=[CHOSEN_COLOUR if a.id == token.id else OTHER_COLOUR for a in alternatives],
        text=[f"{a.prob:.3f}" for a in alternatives], textposition="outside", cliponaxis=False,
        hovertemplate="%{y}: %{x:.4f}<extra></extra>",
    ))
    figure.update_layout(height=60 + 26 * len(alternatives), margin=dict(l=8, r=40, t=8, b=8),
                         xaxis=dict(range=[0, 1], title="probability"), yaxis=dict(automargin=True))
    return figure


def render_token_detail(token: TokenScore, *, key: str) -> None:
    """The selected token's numbers as metrics and its alternatives as bars."""
    st.markdown(f"**Selected token** `{token.text!r}` at position {token.position}"
                + (" (special token)" if token.special else ""))
    left, middle, right = st.columns(3)
    left.metric("Probability", f"{token.prob:.3f}", help="p of this token; higher = more confident")
    middle.metric("Entropy", f"{token.entropy:.3f} nats", help="spread of the distribution; lower = more confident")
    right.metric("Rank", token.rank, help="1 = the model's first choice")
    if token.rank > 1:
        st.caption(f"The model preferred {token.top_k[0].text!r} (p = {token.top_k[0].prob:.3f}); this token was "
                   f"sampled from the distribution.")
    st.plotly_chart(alternatives_figure(token), key=f"{key}_alternatives", config={"displayModeBar": False},
                    width="stretch")
