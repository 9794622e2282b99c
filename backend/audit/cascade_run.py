"""Cascades from kept audits: a request with defer_to is paired with the audit of the same request by the model it
names (its own audit id, computed and resumed like any audit), and the result gains `cascade`
(backend.decisions.cascade) whenever it is summarised (backend.audit.runner calls with_cascade). Nothing here runs
a model: the command line runs the large model's audit first, then this one, whose result carries the cascade.
"""
from __future__ import annotations

from typing import Optional

from backend.audit.store import AuditStore
from backend.decisions.cascade import CascadeSide, cascade, refused_result
from backend.errors import UserInputError
from backend.models.registry import build_registry
from backend.schemas.audit import AuditRequest, AuditResult
from backend.schemas.cascade import CascadeResult, deferral_request

ONE_MODEL = {"digits": "builtin-digits is answered by its one digits classifier, so there is no second model to "
                       "defer to",
             "given": "a file of precomputed scores has no model answering, so there is no model to defer to"}
SUMMARY_RATES = ("0.2", "0.5")


def refusal(request: AuditRequest, dataset_kind: str) -> Optional[str]:
    """Why this request cannot make a cascade before any audit is read (one model, the same model twice), or None."""
    if dataset_kind in ONE_MODEL:
        return f"no cascade: {ONE_MODEL[dataset_kind]}"
    if request.defer_to == request.model:
        return (f"no cascade: defer_to is {request.defer_to!r}, the audited model itself; name a second (larger) "
                f"model to defer to")
    return None


def check_deferral(request: AuditRequest) -> None:
    """Refuse, before anything runs, a defer_to that cannot make a cascade (UserInputError saying what to change)."""
    from backend.audit.runner import plan_audit

    reason = refusal(request, plan_audit(request).dataset.kind)
    if reason:
        raise UserInputError(reason)


def audits_to_run(request: AuditRequest) -> list[AuditRequest]:
    """The audits a command runs for this request: with defer_to, the large model's audit first (checked by
    check_deferral), then this one, whose result then carries the cascade; else this one alone."""
    if not request.defer_to:
        return [request]
    check_deferral(request)
    return [deferral_request(request), request]


def cascade_for(result: AuditResult, store: AuditStore) -> CascadeResult:
    """The cascade of an audit's result deferring to result.request.defer_to, read from that model's kept audit of
    the same request (a refusal naming what to run when there is none, or it lacks items)."""
    from backend.audit.runner import adopt_earlier_runs, plan_audit

    request = result.request
    small = CascadeSide(result.model_id, result.audit_id, result.dataset_sha256, result.items)
    large_request = deferral_request(request)
    plan = plan_audit(large_request)
    reason = refusal(request, plan.dataset.kind)
    if reason:
        return refused_result(small, large_request.model, result.dataset_id, reason)
    adopt_earlier_runs(plan, large_request, store)
    items = store.items(plan.audit_id)
    if not items:
        return refused_result(small, large_request.model, result.dataset_id, missing_audit(large_request.model,
                                                                                        result.dataset_id),
                              plan.audit_id)
    large = CascadeSide(large_request.model, plan.audit_id, plan.dataset.sha256, items)
    return cascade(small, large, result.methods, result.dataset_id)


def missing_audit(model: str, dataset_id: str) -> str:
    """Why there is no cascade when the model to defer to has no kept audit: it is not registered, or not run."""
    known = build_registry().available("text")
    if model not in known:
        return (f"no cascade: {model!r} is not a registered text model (registered: {', '.join(known)}); name one of "
                f"those, or register it (UQLENS_TEXT_MODELS or UQLENS_MODELS_FILE) and audit it")
    return (f"no audit of {model!r} on {dataset_id} with these settings is kept: run it (python -m backend audit "
            f"... --defer-to {model}, or Run on the page's Cascade tab), then ask again")


def with_cascade(result: AuditResult, store: AuditStore) -> AuditResult:
    """The result with `cascade` attached when its request names a model to defer to (unchanged otherwise)."""
    if not result.request.defer_to:
        return result
    return result.model_copy(update={"cascade": cascade_for(result, store)})


def format_cascade(result: CascadeResult) -> str:
    """A few lines for the terminal: the accuracies alone, the best rule and its accuracy at 20 % and 50 % deferral
    against random deferral and the oracle, or the refusal."""
    if result.refused:
        return f"cascade {result.small_model} -> {result.large_model}: {result.refused}"
    best = result.best()
    lines = [f"cascade {result.small_model} -> {result.large_model} on {result.n} items: accuracy "
             f"{result.small_accuracy:.3f} alone, {result.large_accuracy:.3f} for the large model"]
    if best is None:
        return "\n".join(lines + ["no deferral rule: the small audit has no scores"])
    lines.append(f"best rule {best.name} (area {best.area:.3f}; random {result.random.area:.3f}, oracle "
                 f"{result.oracle.area:.3f})")
    for rate in SUMMARY_RATES:
        lines.append(f"  deferring {float(rate):.0%}: accuracy {best.accuracy_at[rate]:.3f} vs random "
                     f"{result.random.accuracy_at[rate]:.3f} (oracle {result.oracle.accuracy_at[rate]:.3f}); "
                     f"{1 - float(rate):.0%} of items never reach the large model")
    lines.append(f"  as accurate as the large model from {best.reaches_large_at:.0%} deferral "
                 f"({1 - best.reaches_large_at:.0%} of its calls saved)")
    return "\n".join(lines + result.notes)
