"""A classifier's top classes as horizontal probability bars, most likely on top, and its distribution at any
temperature from the logits an ImageAnalysis carries."""
from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go
import streamlit as st
import torch

from backend.analyses.classifier_stats import DistributionStats, distribution_stats
from backend.schemas.image import ClassScore
from components.figure_config import figure_config
from components.text_safety import escape_plotly

TOP_COLOUR = "#d7301f"
OTHER_COLOUR = "#9fb7d0"
MAX_LABEL_CHARS = 40


def distribution_at(logits: Sequence[float], temperature: float, *, top_k: int = 1) -> DistributionStats:
    """The softmax of logits / temperature (C logits, as the wire carries them) with its entropy in nats, top-2
    margin and top_k classes, in float64."""
    return distribution_stats(torch.tensor(logits), temperature=temperature, top_k=top_k)


def scores_at(classes: Sequence[ClassScore], stats: DistributionStats) -> list[ClassScore]:
    """The classes (in their order) with their probabilities in stats, e.g. the top-k at another temperature."""
    return [ClassScore(label=c.label, index=c.index, prob=float(stats.probs[c.index])) for c in classes]


def short_label(label: str) -> str:
    """The first name of an ImageNet description ("tabby, tabby cat" -> "tabby"), cut to MAX_LABEL_CHARS."""
    first = label.split(",")[0].strip() or label
    return first if len(first) <= MAX_LABEL_CHARS else first[:MAX_LABEL_CHARS - 1] + "…"


def bar_label(score: ClassScore) -> str:
    """A bar's label: the short class name and its index, the index left out where it is the name (digits)."""
    name = escape_plotly(short_label(score.label))
    return f"{name} " if score.label == str(score.index) else f"{name} ({score.index}) "


def class_probabilities_figure(scores: Sequence[ClassScore], *, title: str = "") -> go.Figure:
    """Bars of probability in [0, 1] per class; the top class in red. Labels are escaped (plotly reads tags)."""
    rows = list(reversed(scores))
    figure = go.Figure(go.Bar(
        orientation="h", x=[s.prob for s in rows],
        y=[bar_label(s) for s in rows],
        marker_color=[TOP_COLOUR if s is scores[0] else OTHER_COLOUR for s in rows],
        text=[f"{s.prob:.3f}" for s in rows], textposition="outside", cliponaxis=False,
        customdata=[escape_plotly(s.label) for s in rows],
        hovertemplate="%{customdata}<br>probability %{x:.4f}<extra></extra>",
    ))
    figure.update_layout(height=70 + 28 * len(rows), margin=dict(l=8, r=48, t=36 if title else 8, b=8),
                         title=dict(text=escape_plotly(title), font=dict(size=14)) if title else None,
                         xaxis=dict(range=[0, 1], title="probability"), yaxis=dict(automargin=True))
    return figure


def render_class_probabilities(scores: Sequence[ClassScore], *, key: str, title: str = "") -> None:
    """Draw the bars in the current Streamlit container."""
    st.plotly_chart(class_probabilities_figure(scores, title=title), key=f"{key}_class_probabilities",
                    config=figure_config("class-probabilities"), width="stretch")
