"""The Calibration & audits page's "Compare two audits" tab: pick two kept audits of one dataset (the shown one
first) and a method of each (one audit twice with two methods is allowed), then see both reliability diagrams and
risk-coverage curves overlaid and the metric differences with paired-bootstrap intervals; download the table, or
save the comparison (kind "audit_comparison", reopened on the Saved page). Everything goes through the client, so
it works in-process and over HTTP, for audits of local and served models alike."""
from __future__ import annotations

from typing import Optional

import streamlit as st

from app.audit_services import when_free
from app.services import get_client
from backend.schemas.audit import AuditResult
from backend.schemas.audit_compare import (DEFAULT_COMPARE_RESAMPLES, MAX_COMPARE_RESAMPLES, MIN_COMPARE_RESAMPLES,
                                           AuditComparison, AuditComparisonRequest, KeptAudit)
from components.audit_overlay import render_audit_comparison
from components.errors import EXPECTED_ERRORS, show_error
from components.save_form import render_save_form

KEY = "calib_cmp"
REQUEST = f"{KEY}_request"
INTRO = ("Two audits of the same dataset, paired item by item: two models, two settings, or two methods of one "
         "audit. Each side is graded by its own audit; B − A is given for every metric with a paired bootstrap "
         "interval (the same resampled items for both sides).")


@st.cache_data(max_entries=4, show_spinner=False, ttl=600)
def read_kept(revision: str) -> list[KeptAudit]:
    """The kept audits at this revision of the page's audits (a new batch or override lists anew)."""
    return when_free(lambda: get_client().kept_audits())


@st.cache_data(max_entries=8, show_spinner="Pairing the items and bootstrapping the differences…")
def read_comparison(request_json: str, revision: str) -> AuditComparison:
    """The comparison the request asks for, at this revision of the audits' items."""
    return when_free(lambda: get_client().compare_audits(AuditComparisonRequest.model_validate_json(request_json)))


def audit_label(kept: KeptAudit, shown: str) -> str:
    """How the boxes list an audit, what tells audits apart first: which one the page shows, items kept, seed,
    model, methods, id."""
    return (f"{'(shown above) ' if kept.audit_id == shown else ''}{kept.kept_items} items · seed {kept.seed} · "
            f"{kept.model_id} · {', '.join(kept.methods)} · {kept.audit_id[:8]}")


def audit_details(kept: KeptAudit) -> str:
    """The whole of an audit's description, for under its box (a long label is cut in the box)."""
    return (f"Audit {kept.audit_id} of {kept.dataset_id} by {kept.model_id}: {kept.kept_items} items kept, seed "
            f"{kept.seed}, methods {', '.join(kept.methods)}; started {kept.created_at} UTC.")


def first_method(methods: list[str], other: Optional[tuple[str, str]], audit_id: str) -> int:
    """Where B's method box starts, given A's (audit id, method): on A's method for another audit that has it, on
    another method than A's for the same audit, else on the first."""
    if other is None or other[1] not in methods:
        return 0
    if other[0] != audit_id:
        return methods.index(other[1])
    return next((i for i, name in enumerate(methods) if name != other[1]), 0)


def pick_side(letter: str, choices: list[KeptAudit], shown: str, column, *, index: int,
              other: Optional[tuple[str, str]] = None) -> tuple[KeptAudit, str]:
    """An audit box and a method box in one column; `other`: the other side's (audit id, method), where the method
    box starts from (first_method)."""
    by_id = {k.audit_id: k for k in choices}
    audit_id = column.selectbox(f"Audit {letter}", list(by_id), index=min(index, len(by_id) - 1),
                                format_func=lambda i: audit_label(by_id[i], shown),
                                key=f"{KEY}_audit_{letter}_{shown}")  # a new audit shown starts the boxes afresh
    kept = by_id[audit_id]
    column.caption(audit_details(kept))
    method = column.selectbox(f"Method of {letter}", kept.methods, index=first_method(kept.methods, other, audit_id),
                              key=f"{KEY}_method_{letter}_{audit_id}")
    return kept, method


def read_request(result: AuditResult, kept: list[KeptAudit]) -> Optional[AuditComparisonRequest]:
    """The pickers and the bootstrap settings; the request when Compare is pressed (None otherwise)."""
    shown = result.audit_id
    ordered = sorted(kept, key=lambda k: k.audit_id != shown)  # the shown audit first, then newest first
    left, right = st.columns(2)
    a, method_a = pick_side("A", ordered, shown, left, index=0)
    same_data = [k for k in ordered if k.dataset_id == a.dataset_id]
    b_index = next((i for i, k in enumerate(same_data) if k.audit_id != a.audit_id), 0)
    b, method_b = pick_side("B", same_data, shown, right, index=b_index, other=(a.audit_id, method_a))
    with st.form(f"{KEY}_form"):
        first, second, third = st.columns(3)
        n_boot = first.number_input("Bootstrap resamples", MIN_COMPARE_RESAMPLES, MAX_COMPARE_RESAMPLES,
                                    DEFAULT_COMPARE_RESAMPLES, step=100, key=f"{KEY}_n_boot",
                                    help="paired resamples of the items; more gives steadier interval ends")
        seed = second.number_input("Bootstrap seed", 0, 2**31 - 1, 0, key=f"{KEY}_seed",
                                   help="seed of the resamples (the same seed gives the same intervals)")
        level = third.selectbox("Interval", [0.9, 0.95, 0.99], index=1, format_func=lambda v: f"{v:.0%}",
                                key=f"{KEY}_level")
        pressed = st.form_submit_button("Compare", type="primary")
    if not pressed:
        return None
    if a.audit_id == b.audit_id and method_a == method_b:
        st.error("Both sides are the same method of the same audit: pick another method or another audit for B.")
        return None
    return AuditComparisonRequest(audit_a=a.audit_id, audit_b=b.audit_id, method_a=method_a, method_b=method_b,
                                  n_boot=int(n_boot), seed=int(seed), level=float(level))


def render_save(comparison: AuditComparison, request_json: str) -> None:
    """The save form of a comparison (kind audit_comparison)."""
    render_save_form(key=KEY, kind="audit_comparison", model=f"{comparison.a.model_id} vs {comparison.b.model_id}",
                     default_title=f"{comparison.a.label[3:]} vs {comparison.b.label[3:]} on {comparison.dataset_id} "
                                   f"({comparison.paired_items} items)",
                     payload=comparison.model_dump(mode="json"), request=AuditComparisonRequest.model_validate_json(
                         request_json).model_dump(mode="json"), content_key=f"audit-comparison-{request_json}",
                     save=get_client().save)


def render_compare_tab(result: AuditResult, revision: str) -> None:
    """The tab's content below the shown audit (`revision`: of the page's audits, so new batches count)."""
    st.caption(INTRO)
    try:
        kept = read_kept(revision)
    except EXPECTED_ERRORS as exc:
        show_error(exc, kept="Nothing was lost: open the tab again.")
        return
    if not any(k.dataset_id == result.dataset_id and k.audit_id != result.audit_id for k in kept) and \
            len(result.methods) < 2:
        st.info(f"Only this audit of {result.dataset_id} is kept, with one method: run a second audit of it (another "
                f"model, other settings, or more methods), then come back to compare.")
    request = read_request(result, kept)
    shown_key = f"{REQUEST}_{result.audit_id}"  # a comparison belongs to the audit it was asked under
    if request is not None:
        st.session_state[shown_key] = request.model_dump_json()
    request_json = st.session_state.get(shown_key)
    if not request_json:
        return
    try:
        comparison = read_comparison(request_json, revision)
    except EXPECTED_ERRORS as exc:
        show_error(exc, kept="Both audits' items are kept.")
        return
    render_audit_comparison(comparison, key=KEY, save=lambda: render_save(comparison, request_json))
