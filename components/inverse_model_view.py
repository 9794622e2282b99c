"""The evidence of Inv-Entropy: the question and its perturbed prompts with their answers, and the inverse model
p(prompt | answer) as a heatmap (answers x prompts), read from the score's details."""
from __future__ import annotations

import math
from typing import Sequence

import plotly.graph_objects as go
import streamlit as st

from backend.schemas import SequenceAnalysis
from components.figure_config import figure_config
from components.meaning_clusters import short_label
from components.text_safety import escape_plotly, markdown_literal


def prompt_names(prompts: int) -> list[str]:
    """Axis names of the question (Q) and its perturbations (P1 ... Pn)."""
    return ["Q"] + [f"P{i}" for i in range(1, prompts)]


def inverse_model_figure(posterior: Sequence[Sequence[float]], answers: Sequence[str],
                         pair_prompt: Sequence[int]) -> go.Figure:
    """Heatmap of p(prompt | answer) (N answers x prompts, rows sum to 1; colours span the values shown); each row
    labelled by the prompt its answer came from, the pair's own prompt named in the hover text (escaped)."""
    names = prompt_names(len(posterior[0]))
    rows = [f"{names[p]} · {i + 1}" for i, p in enumerate(pair_prompt)]
    hover = [[f"answer {rows[i]}: {escape_plotly(short_label(answers[i]))}<br>to {names[j]}"
              + (" (its own prompt)" if j == pair_prompt[i] else "") for j in range(len(names))]
             for i in range(len(rows))]
    figure = go.Figure(go.Heatmap(
        z=posterior, x=names, y=rows, colorscale="Blues", customdata=hover,
        text=[[f"{v:.3f}" for v in row] for row in posterior], texttemplate="%{text}",
        hovertemplate="%{customdata}<br>p(prompt | answer) %{z:.4f}<extra></extra>",
        colorbar=dict(title="p")))
    figure.update_layout(height=120 + 24 * len(rows), margin=dict(l=8, r=8, t=8, b=8),
                         xaxis=dict(title="prompt", side="top"), yaxis=dict(title="answer", autorange="reversed"))
    return figure


def render_perturbations(result: SequenceAnalysis, *, key: str) -> None:
    """Inv-Entropy's perturbed prompts, their answers and the inverse model, or what to select to see them."""
    score = next((s for s in result.scores if s.name == "inv_entropy"), None)
    if score is None:
        st.info("Select Inv-Entropy to see the question reworded, each rewording answered, and the inverse model "
                "p(question | answer) built from them.")
        return
    if score.value is None:
        st.warning(f"Inv-Entropy was not computed: {score.details.get('error', 'no reason given')}")
        return
    d = score.details
    names, pairs = prompt_names(len(d["prompts"])), len(d["q"])
    st.markdown(f"**Inv-Entropy** = {score.value:.4f} nats over {pairs} (prompt, answer) pairs "
                f"(at most N/e = {pairs / math.e:.2f})")
    for name, prompt, answers in zip(names, d["prompts"], d["answers"]):
        with st.expander(f"{name}: {prompt}", expanded=name == "Q"):
            st.markdown("\n".join(f"- {markdown_literal(a) or '*(empty)*'}" for a in answers))
    st.plotly_chart(inverse_model_figure(d["posterior_by_prompt"], [a for g in d["answers"] for a in g],
                                         d["pair_prompt"]), key=f"{key}_inverse",
                    config=figure_config("inv-entropy-inverse-model"), width="stretch")
    st.caption("Q is the question, P1… its rule-based rewordings (a framing added or a word dropped; the most "
               "different ones kept by the embedding model). Random walks over the pairs by embedding similarity "
               "(|cos| of the prompts, of the answers) give p(prompt | answer); each row sums to 1. Inv-Entropy = "
               "−Σ q ln q, q being each answer's probability of its own pair's prompt: higher when answers are "
               "told apart by the prompt they came from, i.e. rewording the question changes what the model says.")
