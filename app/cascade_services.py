"""The Calibration & audits page's Cascade tab: the cascade of the shown audit deferring to a second model (read with
the audit's result, defer_to set), and that model's audit of the same items run batch by batch through the client
like any audit (so it is resumable and works over HTTP too)."""
from __future__ import annotations

import uuid
from typing import Optional

import streamlit as st

from app.audit_services import run_batches, when_free
from app.services import get_client, model_ids
from backend.schemas.audit import BUILTIN_DIGITS, AuditProgress, AuditRequest, AuditResult
from backend.schemas.cascade import CascadeResult, deferral_request
from components.cascade_view import render_cascade
from components.errors import EXPECTED_ERRORS, show_error

KEY = "calib_cascade"
REVISION = f"{KEY}_revision"


def cascade_applies(result: AuditResult) -> bool:
    """Whether a second model could answer the audit's items: not the digits classifier, not precomputed scores."""
    return result.request.dataset != BUILTIN_DIGITS and not all(item.grading == "given" for item in result.items)


def second_models(result: AuditResult) -> list[str]:
    """The registered models of the audit's kind other than the one audited."""
    kind = "image" if any(item.grading == "label" for item in result.items) else "text"
    return [model for model in model_ids(kind) if model != result.model_id]


@st.cache_data(max_entries=8, show_spinner="Pairing the two audits…")
def read_cascade(request_json: str, defer_to: str, revision: str) -> CascadeResult:
    """The cascade of the audit deferring to `defer_to` at this revision of the two audits' items."""
    request = AuditRequest.model_validate_json(request_json).model_copy(update={"defer_to": defer_to})
    return when_free(lambda: get_client().audit_result(request)).cascade


def run_second(request: AuditRequest, defer_to: str) -> None:
    """Run (or resume) defer_to's audit of the same items with a progress bar, then read the cascade anew."""
    bar = st.progress(0.0, text=f"Auditing {defer_to} on the same items…")

    def progress(state: AuditProgress, seconds_left: Optional[float]) -> None:
        left = f", about {seconds_left:.0f} s left" if seconds_left is not None else ""
        bar.progress(state.done / max(state.total, 1), text=f"{defer_to}: {state.done} of {state.total} items "
                                                            f"done{left}")

    try:
        run_batches(deferral_request(request.model_copy(update={"defer_to": defer_to})), progress)
    except EXPECTED_ERRORS as exc:
        show_error(exc, kept="Finished items are kept: press Run again to go on.")
        return
    st.session_state[REVISION] = uuid.uuid4().hex
    st.rerun()


def render_cascade_tab(result: AuditResult, revision: str) -> None:
    """The tab's content for the shown audit (`revision`: of its items, so an override is followed)."""
    request_json = result.request.model_dump_json()

    def read(model: str) -> CascadeResult:
        return read_cascade(request_json, model, f"{revision}-{st.session_state.get(REVISION, '')}")

    try:
        render_cascade(key=KEY, models=second_models(result), read=read,
                       run=lambda model: run_second(result.request, model))
    except EXPECTED_ERRORS as exc:
        show_error(exc, kept="Both audits' items are kept.")
