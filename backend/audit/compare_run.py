"""Comparisons of kept audits, read by audit id from the audit store (the operations `compare_audits` and
`kept_audits`): an audit is the request it was first recorded with and every item kept under its id (at any
limit), so audits of local and served models, of the digits classifier or of a scores file compare alike. Nothing
here runs a model; backend.audit.comparison computes.
"""
from __future__ import annotations

from typing import Optional

from backend.audit.comparison import AuditSide, compare_sides
from backend.audit.methods import compares_pairs
from backend.audit.runner import adopt_earlier_runs, answering_model, plan_audit
from backend.audit.store import AuditStore
from backend.decisions import relative_confidence as relative
from backend.errors import UserInputError
from backend.schemas.audit import BUILTIN_DIGITS, AuditRequest
from backend.schemas.audit_compare import MAX_KEPT_AUDITS, AuditComparison, AuditComparisonRequest, KeptAudit


def kept_request(audit_id: str, store: AuditStore) -> AuditRequest:
    """The request an audit was recorded with; UserInputError when the store keeps no audit of this id."""
    recorded = store.request_of(audit_id)
    if recorded is None:
        raise UserInputError(f"no audit {audit_id} is kept: run it first (python -m backend audit, or Run audit on "
                             f"the Calibration page), or pick one of the kept audits (GET /v1/audit/kept)")
    return AuditRequest.model_validate_json(recorded)


def kept_side(audit_id: str, method: Optional[str], store: AuditStore) -> AuditSide:
    """One side: the audit's every kept item and the named method (default its first); UserInputError naming the
    audit's methods when it has not this one, or when it has no item yet."""
    request = kept_request(audit_id, store).model_copy(update={"limit": None})
    plan = plan_audit(request)
    adopt_earlier_runs(plan, request, store)
    names = [m.name for m in plan.methods]
    chosen = method or names[0]
    if chosen not in names:
        raise UserInputError(f"audit {audit_id} has no method {chosen!r}; it has {', '.join(names)}")
    if store.created_at(plan.audit_id) is not None:  # a run kept under a legacy id was just moved to its own
        audit_id = plan.audit_id
    items = store.items(audit_id)
    if not items:
        raise UserInputError(f"audit {audit_id} has no finished item yet: run it, then compare")
    if compares_pairs(plan.methods):
        items = relative.with_relative_scores(items)
    info = next(m.info() for m in plan.methods if m.name == chosen)
    return AuditSide(audit_id=audit_id, model_id=answering_model(plan.dataset.kind, request),
                     dataset_id=plan.dataset.dataset_id, dataset_sha256=plan.dataset.sha256, method=info,
                     seed=request.seed, items=items)


def compare_audits(request: AuditComparisonRequest, store: AuditStore) -> AuditComparison:
    """B against A on the items both kept (backend.audit.comparison). method_b defaults to method_a when B is
    another audit that has it, else to B's first method (of one audit: its first other than method_a)."""
    a = kept_side(request.audit_a, request.method_a, store)
    method_b = request.method_b
    if method_b is None:
        names = kept_request(request.audit_b, store).methods
        others = [name for name in names if name != a.method.name] if request.audit_b == request.audit_a else []
        method_b = others[0] if others else a.method.name if a.method.name in names else None
    return compare_sides(a, kept_side(request.audit_b, method_b, store), request)


def kept_model(request: AuditRequest, dataset_id: str, audit_id: str, store: AuditStore) -> str:
    """Who answered a kept audit, without loading its dataset: the digits classifier, '(precomputed)' when its
    items were given scores, else the request's model."""
    if dataset_id == BUILTIN_DIGITS:
        return answering_model("digits", request)
    first = store.first_item(audit_id)
    return answering_model("given" if first is not None and first.grading == "given" else "qa", request)


def kept_audits(store: AuditStore) -> list[KeptAudit]:
    """The newest MAX_KEPT_AUDITS audits with at least one kept item, newest first."""
    kept = []
    for audit_id, request_json, dataset_id, created_at, count in store.runs(MAX_KEPT_AUDITS):
        try:
            request = AuditRequest.model_validate_json(request_json)
        except ValueError:
            continue
        kept.append(KeptAudit(audit_id=audit_id, dataset_id=dataset_id, methods=request.methods, seed=request.seed,
                              model_id=kept_model(request, dataset_id, audit_id, store), kept_items=count,
                              created_at=created_at))
    return kept
