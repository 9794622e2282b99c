"""A saved item drawn again as its page showed it, from its payload alone (no model): text analyses, sequence
analyses, attention & saliency views, image results and audits. Each kind uses the components its page uses;
every widget key starts with the caller's key."""
from __future__ import annotations

import json
from typing import Callable, Iterable, get_args

import streamlit as st

from backend.schemas import SequenceAnalysis, TextAnalysis
from backend.schemas.audit import AuditResult
from backend.schemas.audit_compare import AuditComparison
from backend.schemas.branches import BranchTree
from backend.schemas.compare import TextComparison
from backend.schemas.saved import SavedAttention, SavedImage
from backend.schemas.store import SavedItem, SavedKind
from components.audit_overlay import render_audit_comparison
from components.audit_views import items_frame, render_audit_tabs
from components.branch_tree import render_saved_branches
from components.comparison_view import render_comparison_view
from components.saved_attribution_views import render_saved_attention, render_saved_image
from components.sequence_view import render_sequence_analysis
from components.text_analysis_view import render_text_analysis
from components.text_safety import markdown_literal


def kinds_present(kinds: Iterable[str]) -> list[str]:
    """The kinds among `kinds` (e.g. those of every saved item), each once, in the order the pages come."""
    found = set(kinds)
    return [kind for kind in get_args(SavedKind) if kind in found]


def payload_of(item: SavedItem):
    """The item's payload as its schema object (validated from JSON, so image bytes come back from base64)."""
    schema = {"text": TextAnalysis, "sequence": SequenceAnalysis, "attention": SavedAttention, "image": SavedImage,
              "audit": AuditResult, "comparison": TextComparison, "branches": BranchTree,
              "audit_comparison": AuditComparison}[item.kind]
    return schema.model_validate_json(json.dumps(item.payload))


def render_saved_sequence(result: SequenceAnalysis, *, key: str) -> None:
    """The prompt, then the analysis as the Sequence page drew it (without the asking tab's live prompts)."""
    st.markdown(f"**Prompt**: {markdown_literal(result.text.prompt)}")
    render_sequence_analysis(result, key=key, asking=False)


def render_saved_audit(result: AuditResult, *, key: str) -> None:
    """Headline, metrics and the audit's diagrams and tables in tabs, as on the Calibration page (the items are
    read-only here: overrides belong to the live audit)."""
    st.markdown(f"**{result.n} items, accuracy {result.accuracy:.1%}** · model {result.model_id} · data "
                f"{result.dataset_id} · seed {result.request.seed} · started {result.created_at} UTC")
    render_audit_tabs(result, key=key, items=lambda: st.dataframe(
        items_frame(result, range(len(result.items))), hide_index=True, key=f"{key}_items"))


def render_saved_text(result: TextAnalysis, *, key: str) -> None:
    """The Text page's whole view of the analysis, under its prompt."""
    st.markdown(f"**Prompt**: {markdown_literal(result.prompt)}")
    render_text_analysis(result, key=key)


def render_saved_comparison(result: TextComparison, *, key: str) -> None:
    """The prompt, then both sides as the Side by side page drew them."""
    st.markdown(f"**Prompt**: {markdown_literal(result.first.analysis.prompt)}")
    render_comparison_view(result, key=key)


RENDERERS: dict[str, Callable] = {"text": render_saved_text, "sequence": render_saved_sequence,
                                  "attention": render_saved_attention, "image": render_saved_image,
                                  "audit": render_saved_audit, "comparison": render_saved_comparison,
                                  "branches": render_saved_branches,
                                  "audit_comparison": render_audit_comparison}


def render_saved(item: SavedItem, *, key: str) -> None:
    """The saved item drawn as its page drew it; a clear message when its payload no longer fits its schema."""
    try:
        payload = payload_of(item)
    except ValueError as exc:
        st.error(f"This saved {item.kind} item cannot be drawn ({str(exc).splitlines()[0]}); export it as JSON "
                 f"to keep its content.")
        return
    RENDERERS[item.kind](payload, key=key)
