"""The K sampled answers grouped into their meaning clusters, with each cluster's mass."""
from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go
import streamlit as st

from backend.schemas import MeaningCluster, SampledAnswer
from components.figure_config import figure_config
from components.text_safety import escape_plotly, markdown_literal

MASS_COLOUR = "#d7301f"
SHARE_COLOUR = "#9fb7d0"
LABEL_CHARS = 40


def short_label(text: str, limit: int = LABEL_CHARS) -> str:
    """One line of at most `limit` characters (an empty answer shows as '(empty)')."""
    line = " ".join(text.split()) or "(empty)"
    return line if len(line) <= limit else line[:limit - 1] + "…"


def cluster_label(cluster: MeaningCluster, samples: Sequence[SampledAnswer]) -> str:
    """'#id: first member's text' (escaped for plotly)."""
    return f"#{cluster.id + 1}: {escape_plotly(short_label(samples[cluster.members[0]].text))}"


def cluster_mass_figure(clusters: Sequence[MeaningCluster], samples: Sequence[SampledAnswer]) -> go.Figure:
    """Two bars per cluster: its probability mass (what semantic entropy uses) and its share of the K samples."""
    ordered = list(reversed(clusters))
    labels = [cluster_label(c, samples) for c in ordered]
    figure = go.Figure()
    figure.add_trace(go.Bar(orientation="h", y=labels, x=[c.mass for c in ordered], name="probability mass",
                            marker_color=MASS_COLOUR, text=[f"{c.mass:.3f}" for c in ordered],
                            textposition="outside", cliponaxis=False,
                            hovertemplate="%{y}<br>mass %{x:.4f}<extra></extra>"))
    figure.add_trace(go.Bar(orientation="h", y=labels, x=[c.share for c in ordered], name="share of samples",
                            marker_color=SHARE_COLOUR, text=[f"{len(c.members)}/{len(samples)}" for c in ordered],
                            textposition="outside", cliponaxis=False,
                            hovertemplate="%{y}<br>share %{x:.3f}<extra></extra>"))
    figure.update_layout(barmode="group", height=90 + 46 * len(clusters), margin=dict(l=8, r=50, t=8, b=8),
                         xaxis=dict(range=[0, 1.08], title="fraction"), yaxis=dict(automargin=True),
                         legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0))
    return figure


def sample_lines(cluster: MeaningCluster, samples: Sequence[SampledAnswer]) -> list[str]:
    """Markdown lines (answer text escaped) for the cluster's members: probability, weight, text."""
    lines = []
    for index in cluster.members:
        sample = samples[index]
        lines.append(f"- sample {index + 1} · log p = {sample.logprob:.2f} · weight {sample.weight:.3f} · "
                     f"{len(sample.ids)} tokens{' (cut at max tokens)' if sample.stop_reason != 'eos' else ''}: "
                     f"{markdown_literal(sample.text) or '*(empty)*'}")
    return lines


def render_meaning_clusters(clusters: Sequence[MeaningCluster], samples: Sequence[SampledAnswer], *,
                            key: str) -> None:
    """The mass chart, then each cluster's answers with their probabilities."""
    st.plotly_chart(cluster_mass_figure(clusters, samples), key=f"{key}_masses", config=figure_config("meaning-masses"),
                    width="stretch")
    for cluster in clusters:
        with st.container(border=True, key=f"{key}_cluster_{cluster.id}"):
            st.markdown(f"**Meaning #{cluster.id + 1}** · mass {cluster.mass:.3f} · "
                        f"{len(cluster.members)} of {len(samples)} samples")
            st.markdown("\n".join(sample_lines(cluster, samples)))
