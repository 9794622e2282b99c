"""The evidence of kernel language entropy (the K x K unit-trace heat kernel and its eigenvalues) and of CoCoA (the
analysed answer's similarity to each sample, and its surprisal), read from those scores' details."""
from __future__ import annotations

from typing import Optional, Sequence

import plotly.graph_objects as go
import streamlit as st

from backend.schemas import SequenceScore
from components.figure_config import figure_config
from components.text_safety import escape_plotly


def kernel_figure(kernel: Sequence[Sequence[float]], labels: Sequence[str]) -> go.Figure:
    """Heatmap of KLE's density matrix rho (K x K, trace 1, diagonal 1/K): 0 white ... 1/K dark; rows and columns
    labelled by sample (hover escaped)."""
    k = len(kernel)
    names = [f"{i + 1}" for i in range(k)]
    hover = [[f"{escape_plotly(labels[i])}<br>vs {escape_plotly(labels[j])}" for j in range(k)] for i in range(k)]
    figure = go.Figure(go.Heatmap(
        z=kernel, x=names, y=names, zmin=0, zmax=1 / k, colorscale="Purples", customdata=hover,
        text=[[f"{v:.3f}" for v in row] for row in kernel], texttemplate="%{text}",
        hovertemplate="%{customdata}<br>ρ %{z:.4f}<extra></extra>", colorbar=dict(title="ρ")))
    figure.update_layout(height=120 + 34 * k, margin=dict(l=8, r=8, t=8, b=8),
                         xaxis=dict(title="sample", side="top"), yaxis=dict(title="sample", autorange="reversed"))
    return figure


def kernel_spectrum_figure(eigenvalues: Sequence[float], terms: Sequence[float]) -> go.Figure:
    """rho's eigenvalues λ (they sum to 1) as bars, beside each one's share -λ ln λ of the entropy (nats)."""
    index = [f"λ{i + 1}" for i in range(len(eigenvalues))]
    figure = go.Figure()
    figure.add_trace(go.Bar(x=index, y=list(eigenvalues), name="eigenvalue λ of ρ", marker_color="#6a51a3",
                            hovertemplate="%{x} = %{y:.4f}<extra></extra>"))
    figure.add_trace(go.Bar(x=index, y=list(terms), name="−λ ln λ → KLE (nats)", marker_color="#fc8d59",
                            hovertemplate="%{x}: adds %{y:.4f} nats<extra></extra>"))
    figure.update_layout(barmode="group", height=300, margin=dict(l=8, r=8, t=30, b=8), yaxis=dict(title="value"),
                         legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0))
    return figure


def answer_similarity_figure(similarity: Sequence[float], labels: Sequence[str]) -> go.Figure:
    """One bar per sample: the analysed answer's similarity s_i to it in [0, 1], and a dashed line at the mean."""
    names = [f"{i + 1}" for i in range(len(similarity))]
    mean = sum(similarity) / len(similarity)
    figure = go.Figure(go.Bar(
        x=names, y=list(similarity), marker_color="#2b6cb0", customdata=[escape_plotly(t) for t in labels],
        text=[f"{v:.2f}" for v in similarity], textposition="outside", cliponaxis=False,
        hovertemplate="sample %{x}: %{customdata}<br>similarity to the answer %{y:.3f}<extra></extra>"))
    figure.add_hline(y=mean, line=dict(color="#555555", dash="dash"))
    figure.update_layout(height=300, margin=dict(l=8, r=8, t=40, b=8), showlegend=False,
                         title=dict(text=f"mean similarity {mean:.3f} (dashed line)", font=dict(size=13)),
                         xaxis=dict(title="sample"), yaxis=dict(range=[0, 1.1], title="similarity to the answer"))
    return figure


def cocoa_sentence(score: SequenceScore) -> str:
    """CoCoA's value as the product it is, in words, with the other confidences' products."""
    d, variants = score.details, score.details["variants"]
    return (f"CoCoA = surprisal −ln p(answer) = {d['uncertainty']:.3f} nats (p = {d['sequence_probability']:.3g}) × "
            f"mean dissimilarity 1 − s = {d['mean_dissimilarity']:.3f} → {score.value:.4g}. With the mean token "
            f"surprisal instead (CoCoA-PPL): {variants['cocoa_ppl']:.4g}; with the mean token entropy (CoCoA-MTE, an "
            f"estimate on a served model): {variants['cocoa_mte']:.4g}.")


def _computed(scores: Sequence[SequenceScore], name: str) -> Optional[SequenceScore]:
    return next((s for s in scores if s.name == name and s.value is not None), None)


def render_kernel_and_consistency(scores: Sequence[SequenceScore], labels: Sequence[str], *, key: str) -> None:
    """KLE's kernel and spectrum and CoCoA's similarities, for whichever of the two was computed."""
    kle, cocoa = _computed(scores, "kle"), _computed(scores, "cocoa")
    if kle is not None:
        st.markdown(f"**Kernel language entropy** = {kle.value:.4f} nats of at most ln K = "
                    f"{kle.details['max_possible']:.4f}")
        left, right = st.columns(2)
        with left:
            st.plotly_chart(kernel_figure(kle.details["kernel"], labels), key=f"{key}_kernel",
                            config=figure_config("kle-kernel"), width="stretch")
        with right:
            st.plotly_chart(kernel_spectrum_figure(kle.details["eigenvalues"], kle.details["terms"]),
                            key=f"{key}_kernel_spectrum", config=figure_config("kle-spectrum"), width="stretch")
        st.caption(f"ρ: the heat kernel exp(−tL) of the graph above (L = D − W, t = {kle.details['t']:g}) with its "
                   f"rows and columns scaled to a unit diagonal, divided by K (trace 1). KLE = −tr(ρ ln ρ), the sum "
                   f"of the orange bars: ln K when no answers relate, towards 0 as they share one meaning.")
    if cocoa is not None:
        st.markdown("**CoCoA**: the analysed answer against each sample")
        st.plotly_chart(answer_similarity_figure(cocoa.details["answer_similarity"], labels), key=f"{key}_cocoa",
                        config=figure_config("cocoa-similarity"), width="stretch")
        st.caption(cocoa_sentence(cocoa) + " Similarity by the same rule as the graph's affinity.")
