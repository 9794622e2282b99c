"""The samples' pairwise affinity matrix and the eigenvalues of its graph Laplacian (Lin et al.'s graph scores)."""
from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go
import streamlit as st

from components.figure_config import figure_config
from components.text_safety import escape_plotly

ECCENTRICITY_THRESHOLD = 0.9


def similarity_matrix_figure(similarity: Sequence[Sequence[float]], labels: Sequence[str]) -> go.Figure:
    """Heatmap of the K x K affinity (0 white … 1 dark), rows and columns labelled by sample (escaped)."""
    names = [f"{i + 1}" for i in range(len(similarity))]
    hover = [[f"{escape_plotly(labels[i])}<br>vs {escape_plotly(labels[j])}" for j in range(len(labels))]
             for i in range(len(labels))]
    figure = go.Figure(go.Heatmap(
        z=similarity, x=names, y=names, zmin=0, zmax=1, colorscale="Blues", customdata=hover,
        text=[[f"{v:.2f}" for v in row] for row in similarity], texttemplate="%{text}",
        hovertemplate="%{customdata}<br>affinity %{z:.3f}<extra></extra>", colorbar=dict(title="affinity")))
    figure.update_layout(height=120 + 34 * len(similarity), margin=dict(l=8, r=8, t=8, b=8),
                         xaxis=dict(title="sample", side="top"), yaxis=dict(title="sample", autorange="reversed"))
    return figure


def eigenvalue_figure(eigenvalues: Sequence[float]) -> go.Figure:
    """Laplacian eigenvalues as bars with each one's EigV contribution max(0, 1 - λ) beside it, and the line below
    which eigenvectors embed the answers for Eccentricity."""
    index = [f"λ{i + 1}" for i in range(len(eigenvalues))]
    figure = go.Figure()
    figure.add_trace(go.Bar(x=index, y=list(eigenvalues), name="eigenvalue λ", marker_color="#2b6cb0",
                            hovertemplate="%{x} = %{y:.3f}<extra></extra>"))
    figure.add_trace(go.Bar(x=index, y=[max(0.0, 1.0 - v) for v in eigenvalues], name="max(0, 1 − λ) → EigV",
                            marker_color="#fc8d59", hovertemplate="%{x}: adds %{y:.3f} to EigV<extra></extra>"))
    figure.add_hline(y=ECCENTRICITY_THRESHOLD, line=dict(color="#555555", dash="dash"),
                     annotation_text="eccentricity keeps λ < 0.9", annotation_position="top left")
    figure.update_layout(barmode="group", height=300, margin=dict(l=8, r=8, t=30, b=8),
                         yaxis=dict(range=[0, 2], title="value"),
                         legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0))
    return figure


def render_similarity_graph(similarity: Sequence[Sequence[float]], eigenvalues: Sequence[float],
                            labels: Sequence[str], *, key: str) -> None:
    """Matrix and eigenvalues side by side."""
    left, right = st.columns(2)
    with left:
        st.plotly_chart(similarity_matrix_figure(similarity, labels), key=f"{key}_matrix",
                        config=figure_config("similarity-matrix"), width="stretch")
    with right:
        st.plotly_chart(eigenvalue_figure(eigenvalues), key=f"{key}_eigenvalues", config=figure_config("eigenvalues"),
                        width="stretch")
        st.caption("Eigenvalues of the normalised Laplacian I − D^-1/2 W D^-1/2. As many zeros as separate groups "
                   "of answers; EigV adds up the orange bars.")
