"""Detail of one selected token: its numbers and the model's top alternatives at that step."""
from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from backend.schemas import TokenScore
from components.figure_config import figure_config
from components.text_safety import escape_plotly, markdown_literal

CHOSEN_COLOUR = "#d7301f"
OTHER_COLOUR = "#9fb7d0"


def bar_rows(token: TokenScore) -> list[tuple[str, float, bool]]:
    """(label, probability, is_chosen) for the top-k alternatives in rank order, plus the produced token with its
    rank when it is not among them (a sampled, unlikely token)."""
    rows = [(f"{rank}. {a.text!r}", a.prob, a.id == token.id) for rank, a in enumerate(token.top_k, start=1)]
    if all(a.id != token.id for a in token.top_k):
        rows.append((f"{token.rank}. {token.text!r}", token.prob, True))
    return rows


def alternatives_figure(token: TokenScore) -> go.Figure:
    """Horizontal bars of the top-k alternatives' probabilities, most likely on top; the produced token in red."""
    rows = list(reversed(bar_rows(token)))
    figure = go.Figure(go.Bar(
        orientation="h", x=[prob for _, prob, _ in rows], y=[f"{escape_plotly(label)} " for label, _, _ in rows],
        marker_color=[CHOSEN_COLOUR if chosen else OTHER_COLOUR for _, _, chosen in rows],
        text=[f"{prob:.3f}" for _, prob, _ in rows], textposition="outside", cliponaxis=False,
        hovertemplate="%{y}: %{x:.4f}<extra></extra>",
    ))
    figure.update_layout(height=60 + 26 * len(rows), margin=dict(l=8, r=40, t=8, b=8),
                         xaxis=dict(range=[0, 1], title="probability"), yaxis=dict(automargin=True))
    return figure


def render_token_detail(token: TokenScore, *, key: str) -> None:
    """The selected token's numbers as metrics and its alternatives as bars (the produced token in red)."""
    st.markdown(f"**Selected token** {markdown_literal(repr(token.text))} at position {token.position}"
                + (" (special token)" if token.special else ""))
    left, middle, right = st.columns(3)
    left.metric("Probability", f"{token.prob:.3f}", help="p of this token; higher = more confident")
    middle.metric("Entropy (nats)", f"{token.entropy:.3f}", help="spread of the distribution; lower = more confident")
    right.metric("Rank", token.rank, help="1 = the model's first choice")
    if token.rank > 1:
        st.caption(f"The model's first choice had p = {token.top_k[0].prob:.3f}; this token (rank {token.rank}) "
                   f"was sampled from the distribution.")
    st.plotly_chart(alternatives_figure(token), key=f"{key}_alternatives", config=figure_config("alternatives"),
                    width="stretch")
