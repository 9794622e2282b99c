"""The Calibration & audits page's backend calls: an upload, and an audit run batch by batch through the client.

The same loop serves the in-process client and the HTTP one: start the audit (every input checked), then one call
per batch until every item is done, so progress, the time left and Stop work alike, each HTTP request is short,
and a stopped or crashed audit resumes from the items the backend kept. A busy backend (429) is waited for as its
Retry-After says.
"""
from __future__ import annotations

import time
from typing import Callable, Optional, TypeVar

import streamlit as st

from app.services import get_client
from backend.errors import BackendBusyError
from backend.schemas import ModelInfo
from backend.schemas.audit import AuditDatasetUpload, AuditMethodCatalog, AuditProgress, AuditRequest
from backend.schemas.sequence import why_not

BUSY_RETRIES = 30
Result = TypeVar("Result")
ProgressCallback = Callable[[AuditProgress, Optional[float]], None]


def when_free(call: Callable[[], Result], *, wait: Optional[Callable[[float], None]] = None,
              retries: int = BUSY_RETRIES) -> Result:
    """call(), tried again after the backend's Retry-After (waited with `wait`, time.sleep by default) while it
    answers busy, at most `retries` times in all."""
    for _ in range(retries - 1):
        try:
            return call()
        except BackendBusyError as exc:
            (wait or time.sleep)(exc.retry_after_s)
    return call()


@st.cache_data(show_spinner=False, ttl=3600)
def audit_methods() -> AuditMethodCatalog:
    """Every confidence method an audit can use, with its kind and whether it is selected unless changed."""
    return get_client().audit_methods()


def unavailable_methods(names: list[str], catalog: AuditMethodCatalog, info: Optional[ModelInfo]) -> dict[str, str]:
    """The text methods among `names` the model cannot give, each with why (schemas.sequence.why_not of the first
    capability it lacks); none for a model whose capabilities are not known."""
    if info is None:
        return {}
    have, requires = set(info.capabilities), {m.name: m.requires for m in catalog.methods if m.kind == "text"}
    missing = {name: [cap for cap in requires.get(name, []) if cap not in have] for name in names}
    return {name: why_not(caps[:1]) for name, caps in missing.items() if caps}


def unavailable_note(model: str, refused: dict[str, str]) -> str:
    """The methods a model cannot give, grouped by why, in one sentence for under the methods box."""
    by_reason: dict[str, list[str]] = {}
    for name, why in refused.items():
        by_reason.setdefault(why, []).append(name)
    return f"Not available for {model}: " + "; ".join(f"{', '.join(names)} ({why})"
                                                      for why, names in by_reason.items())


def upload_dataset(filename: str, data: bytes) -> str:
    """Keep an uploaded dataset file on the backend after it checked it; returns the name to audit it by."""
    upload = AuditDatasetUpload(filename=filename, data=data)
    return when_free(lambda: get_client().upload_audit_dataset(upload)).dataset


def run_batches(request: AuditRequest, progress: ProgressCallback) -> AuditProgress:
    """Start (or resume) the audit and compute batch after batch until it is complete.

    progress(state, seconds left or None) is called after the start and after every batch; the time left is the
    mean time per item computed in this run times the items still to do.
    """
    client = get_client()
    state = when_free(lambda: client.start_audit(request))
    progress(state, None)
    started, computed = time.perf_counter(), 0
    while not state.complete:
        state = when_free(lambda: client.run_audit_batch(request))
        if state.computed == 0:
            break
        computed += state.computed
        progress(state, (time.perf_counter() - started) / computed * (state.total - state.done))
    return state
