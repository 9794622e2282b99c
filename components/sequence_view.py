"""A sequence analysis drawn as the Sequence page shows it (the Saved page reopens it the same way): the analysed
answer's heatmap, then the scores and each kind of evidence in its own tab. Every widget key starts with `key`."""
from __future__ import annotations

import streamlit as st

from backend.schemas import SequenceAnalysis
from components.attention_uq_view import render_attention_uq
from components.claim_view import render_claims
from components.inverse_model_view import render_perturbations
from components.kernel_consistency import render_kernel_and_consistency
from components.meaning_clusters import render_meaning_clusters, short_label
from components.sar_weights import render_sar_weights
from components.sequence_scores import render_sequence_scores
from components.similarity_graph import render_similarity_graph
from components.text_safety import markdown_literal
from components.token_heatmap import render_token_heatmap

EVIDENCE_TABS = ["Scores", "Samples and meanings", "Similarity graph", "SAR relevance", "Claims", "Attention",
                 "Perturbed prompts"]
ASKING_TAB = "Asking the model"


def render_samples(result: SequenceAnalysis, *, key: str) -> None:
    """The K samples with their probabilities, grouped into meanings when meaning was computed."""
    if not result.samples:
        st.info("No sample-based method was selected, so no answers were sampled.")
        return
    read = ""
    if result.text.engine != "in-process" and result.sample_logprob_temperature != result.sample_temperature:
        read = (" (their log-probabilities as the engine reports them, before temperature: at temperature 1)"
                if result.sample_logprob_temperature == 1.0 else " (log-probabilities as the server reports them)")
    st.caption(f"{len(result.samples)} answers sampled in one batched call at temperature "
               f"{result.sample_temperature:g}{read}; weight = exp(mean token log-prob), normalised over the samples.")
    if result.meaning is None:
        st.markdown("\n".join(f"- log p = {s.logprob:.2f} · {markdown_literal(s.text) or '*(empty)*'}"
                              for s in result.samples))
        return
    st.info(f"Meaning decided by the {result.meaning.kind} model **{result.meaning.model}**: {result.meaning.rule}.")
    render_meaning_clusters(result.clusters, result.samples, key=f"{key}_meaning")


def render_asking(result: SequenceAnalysis) -> None:
    """What the model was asked about its answer, what it replied and how that was read."""
    asked = [s for s in result.scores if s.name in ("verbalized_confidence", "p_true")]
    if not asked:
        st.info("Neither verbalized confidence nor P(True) is selected.")
    for score in asked:
        st.markdown(f"**{score.label}**: {'not computed' if score.value is None else f'{score.value:.3f}'}")
        if score.details.get("prompt"):
            st.code(score.details["prompt"], language=None, wrap_lines=True)
        if "reply" in score.details:
            st.text(f"Reply: {score.details['reply']}")
            st.caption(score.details["reading"])
        if "p_true_raw" in score.details:
            st.caption(f"p(True) = {score.details['p_true_raw']:.4f}, p(False) = {score.details['p_false_raw']:.4f} "
                       f"as the next token; the score is p(True) / (p(True) + p(False)).")
        if "note" in score.details:
            st.caption(score.details["note"][0].upper() + score.details["note"][1:] + ".")
        if "error" in score.details:
            st.warning(score.details["error"])


def render_sequence_analysis(result: SequenceAnalysis, *, key: str, asking: bool = True) -> None:
    """Heatmap of the answer by entropy, then the tabs (the "Asking the model" tab when `asking`), then the
    seconds of each step."""
    text = result.text
    st.caption(f"{text.model} · {len(text.tokens)} tokens "
               f"{'scored' if text.mode == 'score' else 'generated greedily'} · colour = entropy (nats) · "
               f"{result.seconds.get('total', 0.0):.1f} s in all")
    render_token_heatmap(text.tokens, key=f"{key}_answer", measure="entropy")
    if result.evidence_note:
        st.caption(result.evidence_note[0].upper() + result.evidence_note[1:] + ".")
    if result.left_out:
        st.info("Left out on this model: " + "; ".join(f"{name.replace('_', ' ')} {why}"
                                                       for name, why in result.left_out.items()) + ".")
    tabs = st.tabs(EVIDENCE_TABS + ([ASKING_TAB] if asking else []))
    with tabs[0]:
        render_sequence_scores(result.scores, key=f"{key}_scores")
    with tabs[1]:
        render_samples(result, key=key)
    with tabs[2]:
        if result.similarity:
            labels = [short_label(s.text) for s in result.samples]
            render_similarity_graph(result.similarity, result.laplacian_eigenvalues, labels, key=f"{key}_graph")
            render_kernel_and_consistency(result.scores, labels, key=f"{key}_graph")
        else:
            st.info("The graph is built for semantic entropy, the graph scores (EigV, Degree, Eccentricity), kernel "
                    "language entropy and CoCoA.")
    with tabs[3]:
        if result.token_relevance:
            render_sar_weights(result.token_relevance, key=f"{key}_sar")
        else:
            st.info("Select TokenSAR to see the relevance weight of every token.")
    with tabs[4]:
        render_claims(result, key=f"{key}_claims")
    with tabs[5]:
        render_attention_uq(result, key=f"{key}_attention")
    with tabs[6]:
        render_perturbations(result, key=f"{key}_perturbed")
    if asking:
        with tabs[7]:
            render_asking(result)
    st.caption("Seconds per step: " + ", ".join(f"{k.replace('_', ' ')} {v:.1f}" for k, v in result.seconds.items()))
