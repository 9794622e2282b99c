"""The audit items table: a served model's estimated scores get a bounds column, exact ones none."""
from __future__ import annotations

from backend.audit.methods import resolve_text_methods
from backend.schemas.audit import AuditItem, AuditRequest, AuditResult, MethodMetrics
from components.audit_views import bounds_text, items_frame


def result_of(items: list[AuditItem]) -> AuditResult:
    names = ["mean_logprob", "max_entropy"]
    metrics = {n: MethodMetrics(n=len(items), higher_is="uncertain", confidence_source="", ece=None, mce=None,
                                ace=None, brier=None, nll=None, auroc=None, auprc=None, aurc=None, prr=None)
               for n in names}
    return AuditResult(audit_id="0" * 16, request=AuditRequest(methods=names), model_id="served",
                       dataset_id="builtin-qa", dataset_sha256="0" * 64, n=len(items), accuracy=0.5, n_bins=10,
                       binning="", metrics=metrics, rank_correlation={},
                       methods=[m.info() for m in resolve_text_methods(names)], items=items, created_at="")


def item(index: int, bounds: dict) -> AuditItem:
    return AuditItem(index=index, id=str(index), question="q", answers=["a"], answer="a", correct=True,
                     grading="alias", scores={"mean_logprob": -0.5, "max_entropy": 2.0}, score_bounds=bounds)


def test_estimated_scores_show_their_bounds_and_exact_ones_do_not():
    frame = items_frame(result_of([item(0, {"max_entropy": [1.5, 2.5]}), item(1, {})]), range(2))
    assert list(frame["max_entropy bounds"]) == ["[1.5, 2.5]", ""]
    assert "mean_logprob bounds" not in frame.columns
    assert "max_entropy bounds" not in items_frame(result_of([item(0, {})]), range(1)).columns
    assert bounds_text([3.17564, 4.65709]) == "[3.176, 4.657]" and bounds_text(None) == ""
