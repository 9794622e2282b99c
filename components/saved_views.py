"""A saved item drawn again as its page showed it, from its payload alone (no model): text analyses, sequence
analyses, attention & saliency views, image results and audits. Each kind uses the components its page uses;
every widget key starts with the caller's key."""
from __future__ import annotations

import json
from typing import Callable, Iterable, get_args

import streamlit as st

from backend.schemas import SequenceAnalysis, TextAnalysis
from backend.schemas.audit import AuditResult
from backend.schemas.saved import SavedAttention, SavedImage
from backend.schemas.store import SavedItem, SavedKind
from components.audit_views import (items_frame, render_agreement, render_error_detection, render_metrics,
                                    render_recalibration, render_reliability)
from components.meaning_clusters import render_meaning_clusters, short_label
from components.sar_weights import render_sar_weights
from components.saved_attribution_views import render_saved_attention, render_saved_image
from components.sequence_scores import render_sequence_scores
from components.similarity_graph import render_similarity_graph
from components.text_analysis_view import render_text_analysis
from components.text_safety import markdown_literal
from components.token_heatmap import render_token_heatmap


def kinds_present(kinds: Iterable[str]) -> list[str]:
    """The kinds among `kinds` (e.g. those of every saved item), each once, in the order the pages come."""
    found = set(kinds)
    return [kind for kind in get_args(SavedKind) if kind in found]


def payload_of(item: SavedItem):
    """The item's payload as its schema object (validated from JSON, so image bytes come back from base64)."""
    schema = {"text": TextAnalysis, "sequence": SequenceAnalysis, "attention": SavedAttention, "image": SavedImage,
              "audit": AuditResult}[item.kind]
    return schema.model_validate_json(json.dumps(item.payload))


def render_saved_sequence(result: SequenceAnalysis, *, key: str) -> None:
    """The analysed answer's heatmap, then the scores and their evidence in tabs, as on the Sequence page."""
    text = result.text
    st.markdown(f"**Prompt**: {markdown_literal(text.prompt)}")
    st.caption(f"{text.model} · {len(text.tokens)} tokens {'scored' if text.mode == 'score' else 'generated greedily'}"
               f" · colour = entropy (nats) · {result.seconds.get('total', 0.0):.1f} s in all")
    render_token_heatmap(text.tokens, key=f"{key}_answer", measure="entropy")
    tabs = st.tabs(["Scores", "Samples and meanings", "Similarity graph", "SAR relevance"])
    with tabs[0]:
        render_sequence_scores(result.scores, key=f"{key}_scores")
    with tabs[1]:
        if not result.samples:
            st.info("No sample-based method was selected, so no answers were sampled.")
        elif result.meaning is None:
            st.markdown("\n".join(f"- log p = {s.logprob:.2f} · {markdown_literal(s.text) or '*(empty)*'}"
                                  for s in result.samples))
        else:
            st.info(f"Meaning decided by the {result.meaning.kind} model **{result.meaning.model}**: "
                    f"{result.meaning.rule}.")
            render_meaning_clusters(result.clusters, result.samples, key=f"{key}_meaning")
    with tabs[2]:
        if result.similarity:
            render_similarity_graph(result.similarity, result.laplacian_eigenvalues,
                                    [short_label(s.text) for s in result.samples], key=f"{key}_graph")
        else:
            st.info("No graph: it is built for semantic entropy and the graph scores.")
    with tabs[3]:
        if result.token_relevance:
            render_sar_weights(result.token_relevance, key=f"{key}_sar")
        else:
            st.info("TokenSAR was not selected.")


def render_saved_audit(result: AuditResult, *, key: str) -> None:
    """Headline, metrics and the audit's diagrams and tables in tabs, as on the Calibration page (the items are
    read-only here: overrides belong to the live audit)."""
    st.markdown(f"**{result.n} items, accuracy {result.accuracy:.1%}** · model {result.model_id} · data "
                f"{result.dataset_id} · seed {result.request.seed} · started {result.created_at} UTC")
    render_metrics(result, key=key)
    tabs = st.tabs(["Reliability", "Error detection", "Recalibration", "Agreement", "Items"])
    with tabs[0]:
        render_reliability(result, key=key)
    with tabs[1]:
        render_error_detection(result, key=key)
    with tabs[2]:
        render_recalibration(result, key=key)
    with tabs[3]:
        render_agreement(result, key=key)
    with tabs[4]:
        st.dataframe(items_frame(result, range(len(result.items))), hide_index=True, key=f"{key}_items")


def render_saved_text(result: TextAnalysis, *, key: str) -> None:
    """The Text page's whole view of the analysis, under its prompt."""
    st.markdown(f"**Prompt**: {markdown_literal(result.prompt)}")
    render_text_analysis(result, key=key)


RENDERERS: dict[str, Callable] = {"text": render_saved_text, "sequence": render_saved_sequence,
                                  "attention": render_saved_attention, "image": render_saved_image,
                                  "audit": render_saved_audit}


def render_saved(item: SavedItem, *, key: str) -> None:
    """The saved item drawn as its page drew it; a clear message when its payload no longer fits its schema."""
    try:
        payload = payload_of(item)
    except ValueError as exc:
        st.error(f"This saved {item.kind} item cannot be drawn ({str(exc).splitlines()[0]}); export it as JSON "
                 f"to keep its content.")
        return
    RENDERERS[item.kind](payload, key=key)
