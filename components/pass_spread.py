"""Epistemic vs. aleatoric pictures: each top class's probability in every stochastic pass, and the split of
the predictive entropy into expected entropy and mutual information, method beside method (and as a table)."""
from __future__ import annotations

from typing import Sequence

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from backend.schemas.image import ImageUncertainty
from components.class_probabilities import short_label
from components.figure_config import figure_config
from components.text_safety import escape_plotly

PASS_COLOUR = "rgba(43, 108, 176, 0.45)"
MEAN_COLOUR = "#d7301f"
EXPECTED_COLOUR = "#fdae61"
MUTUAL_COLOUR = "#2b6cb0"
JITTER = 0.28


def uncertainty_frame(results: Sequence[ImageUncertainty]) -> pd.DataFrame:
    """One row per quantity (entropies in nats, agreement as a share), one column per method."""
    quantities = ["Predictive entropy (total)", "Expected entropy (each pass's own doubt)",
                  "Mutual information (disagreement between passes)", "Passes agreeing on the top class"]
    return pd.DataFrame({r.label: [f"{r.predictive_entropy:.3f}", f"{r.expected_entropy:.3f}",
                                   f"{r.mutual_information:.4f}", f"{r.agreement:.0%}"] for r in results},
                        index=quantities)


def jitter_offsets(count: int) -> list[float]:
    """Evenly spread vertical offsets in [-JITTER, JITTER] so the K dots of one class do not hide each other."""
    if count == 1:
        return [0.0]
    return [-JITTER + 2 * JITTER * k / (count - 1) for k in range(count)]


def pass_spread_figure(result: ImageUncertainty) -> go.Figure:
    """One row per top class (most likely on top): a dot per pass, the mean as a red diamond with +-1 std.

    Dot i of every row is pass i (hover names it); x is the probability in [0, 1].
    """
    classes = list(reversed(result.classes))
    offsets = jitter_offsets(result.passes)
    figure = go.Figure()
    figure.add_trace(go.Scatter(
        x=[p for c in classes for p in c.per_pass],
        y=[row + offsets[k] for row, c in enumerate(classes) for k in range(len(c.per_pass))],
        mode="markers", marker=dict(color=PASS_COLOUR, size=7), name="one pass",
        customdata=[[escape_plotly(c.label), escape_plotly(result.pass_labels[k])]
                    for c in classes for k in range(len(c.per_pass))],
        hovertemplate="%{customdata[0]}<br>%{customdata[1]}<br>probability %{x:.4f}<extra></extra>"))
    figure.add_trace(go.Scatter(
        x=[c.mean for c in classes], y=list(range(len(classes))), mode="markers", name="mean ± std",
        marker=dict(color=MEAN_COLOUR, size=12, symbol="diamond", line=dict(color="white", width=1)),
        error_x=dict(type="data", array=[c.std for c in classes], color=MEAN_COLOUR, thickness=2, width=6),
        customdata=[escape_plotly(c.label) for c in classes],
        hovertemplate="%{customdata}<br>mean %{x:.4f}<extra></extra>"))
    figure.update_layout(
        height=90 + 46 * len(classes), margin=dict(l=8, r=8, t=30, b=8),
        legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0),
        xaxis=dict(range=[-0.02, 1.02], title="probability in each pass"),
        yaxis=dict(tickvals=list(range(len(classes))), automargin=True,
                   ticktext=[f"{escape_plotly(short_label(c.label))} " for c in classes]))
    return figure


def entropy_split_figure(results: Sequence[ImageUncertainty]) -> go.Figure:
    """Stacked bars, one per method: expected entropy + mutual information = predictive entropy (nats)."""
    labels = [f"{escape_plotly(r.label)} " for r in results]
    figure = go.Figure([
        go.Bar(orientation="h", y=labels, x=[r.expected_entropy for r in results], marker_color=EXPECTED_COLOUR,
               name="expected entropy (no single pass is sure)",
               hovertemplate="expected entropy %{x:.3f} nats<extra></extra>"),
        go.Bar(orientation="h", y=labels, x=[r.mutual_information for r in results], marker_color=MUTUAL_COLOUR,
               name="mutual information (passes disagree)",
               hovertemplate="mutual information %{x:.4f} nats<extra></extra>"),
    ])
    figure.update_layout(barmode="stack", height=110 + 40 * len(results), margin=dict(l=8, r=8, t=30, b=8),
                         legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0),
                         xaxis=dict(title="predictive entropy (nats)", rangemode="tozero"),
                         yaxis=dict(automargin=True, autorange="reversed"))
    return figure


def render_pass_spread(result: ImageUncertainty, *, key: str) -> None:
    """The per-pass dots of one method."""
    st.plotly_chart(pass_spread_figure(result), key=f"{key}_pass_spread", config=figure_config("pass-spread"),
                    width="stretch")


def render_entropy_split(results: Sequence[ImageUncertainty], *, key: str) -> None:
    """The entropy split of several methods, one bar each."""
    st.plotly_chart(entropy_split_figure(results), key=f"{key}_entropy_split", config=figure_config("entropy-split"),
                    width="stretch")
