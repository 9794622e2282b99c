"""Kept audits compared by id through the store: two audits of a scores file (no model), two methods of one audit,
question audits of a served and an in-process model (an audit is an audit once kept: no engine is asked), the
listing, and the refusals naming what to change."""
from __future__ import annotations

import numpy as np
import pytest

from backend.audit.compare_run import compare_audits, kept_audits
from backend.audit.runner import plan_audit, run_audit
from backend.audit.store import AuditStore
from backend.errors import UserInputError
from backend.schemas.audit import BUILTIN_QA, AuditItem, AuditRequest
from backend.schemas.audit_compare import AuditComparisonRequest


def write_scores(path, n: int = 50, seed: int = 0) -> str:
    """A scores CSV: a probability column p and an uncertainty column u_entropy, 0/1 correctness."""
    rng = np.random.default_rng(seed)
    truth = rng.random(n)
    lines = ["id,correct,p,u_entropy"] + [f"r{i},{int(rng.random() < t)},"
                                          f"{np.clip(t + rng.normal(0, .2), .01, .99):.3f},{rng.random() * (2 - t):.3f}"
                                          for i, t in enumerate(truth)]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.fixture()
def store(tmp_path) -> AuditStore:
    return AuditStore(f"sqlite:///{tmp_path}/audits.sqlite")


def test_two_audits_of_a_scores_file_compare_on_the_items_both_kept(tmp_path, store):
    data = write_scores(tmp_path / "scores.csv")
    first = run_audit(AuditRequest(dataset=data, methods=["p", "u_entropy"]), None, store)
    second = run_audit(AuditRequest(dataset=data, methods=["u_entropy"], limit=30), None, store)
    result = compare_audits(AuditComparisonRequest(audit_a=first.audit_id, audit_b=second.audit_id, n_boot=200),
                            store)
    assert (result.a.method, result.b.method) == ("p", "u_entropy")  # B lacks p: its first method
    assert (result.paired_items, result.only_a, result.only_b) == (30, 20, 0)
    assert result.a.kept_items == 50 and result.a.model_id == "(precomputed)"
    same_method = compare_audits(AuditComparisonRequest(audit_a=first.audit_id, audit_b=second.audit_id,
                                                        method_a="u_entropy", n_boot=200), store)
    assert same_method.b.method == "u_entropy"
    # the same method on the same answers: every difference is 0
    assert all(m.difference in (None, 0) or abs(m.difference) < 1e-12 for m in same_method.metrics
               if m.name not in ("ece", "mce", "ace", "brier", "nll"))
    listed = {k.audit_id: k for k in kept_audits(store)}
    assert listed[first.audit_id].kept_items == 50 and listed[second.audit_id].methods == ["u_entropy"]
    assert listed[first.audit_id].model_id == "(precomputed)"


def test_two_methods_of_one_audit_and_the_default_second_method(tmp_path, store):
    data = write_scores(tmp_path / "scores.csv", seed=1)
    audit = run_audit(AuditRequest(dataset=data, methods=["p", "u_entropy"]), None, store)
    result = compare_audits(AuditComparisonRequest(audit_a=audit.audit_id, audit_b=audit.audit_id, method_a="p",
                                                   n_boot=200), store)
    assert (result.a.method, result.b.method, result.paired_items) == ("p", "u_entropy", 50)
    assert next(m for m in result.metrics if m.name == "accuracy").difference == 0


def test_refusals_name_the_audit_and_what_to_change(tmp_path, store):
    data = write_scores(tmp_path / "scores.csv")
    other = write_scores(tmp_path / "other.csv", seed=2)
    audit = run_audit(AuditRequest(dataset=data, methods=["p"]), None, store)
    elsewhere = run_audit(AuditRequest(dataset=other, methods=["p"]), None, store)
    with pytest.raises(UserInputError, match="no audit f{16} is kept"):
        compare_audits(AuditComparisonRequest(audit_a=audit.audit_id, audit_b="f" * 16), store)
    with pytest.raises(UserInputError, match="has no method 'q'; it has p"):
        compare_audits(AuditComparisonRequest(audit_a=audit.audit_id, audit_b=elsewhere.audit_id, method_a="q"),
                       store)
    with pytest.raises(UserInputError, match="'scores.csv'.*'other.csv'"):
        compare_audits(AuditComparisonRequest(audit_a=audit.audit_id, audit_b=elsewhere.audit_id), store)
    with pytest.raises(UserInputError, match="pick another method"):
        compare_audits(AuditComparisonRequest(audit_a=audit.audit_id, audit_b=audit.audit_id, method_a="p"), store)


def keep_question_audit(store: AuditStore, model: str, right: list[bool], logprobs: list[float]) -> str:
    """Record a builtin-qa audit of `model` and keep hand-made finished items (as a served or in-process run
    would have); returns its id."""
    request = AuditRequest(dataset=BUILTIN_QA, model=model, methods=["mean_logprob"], limit=len(right))
    plan = plan_audit(request)
    store.start(plan.audit_id, request, plan.dataset.dataset_id, plan.total)
    store.save_items(plan.audit_id, [
        AuditItem(index=i, id=qa.id, question=qa.question, answers=qa.answers, answer="x", correct=c,
                  grading="alias", scores={"mean_logprob": s})
        for i, (qa, c, s) in enumerate(zip(plan.dataset.qa, right, logprobs))])
    return plan.audit_id


def test_a_served_models_audit_compares_with_an_in_process_one_without_an_engine(store):
    right = [i % 3 != 0 for i in range(12)]
    local = keep_question_audit(store, "smollm2-135m-instruct", right, [-0.2 - (i % 5) / 4 for i in range(12)])
    served = keep_question_audit(store, "served-smollm2", [not r if i < 3 else r for i, r in enumerate(right)],
                                 [-0.1 - (i % 4) / 3 for i in range(12)])
    result = compare_audits(AuditComparisonRequest(audit_a=local, audit_b=served, n_boot=200), store)
    assert result.a.label == "A: smollm2-135m-instruct · mean_logprob"
    assert result.b.label == "B: served-smollm2 · mean_logprob" and result.paired_items == 12
    accuracy = next(m for m in result.metrics if m.name == "accuracy")
    assert accuracy.a == pytest.approx(8 / 12) and accuracy.b == pytest.approx(7 / 12)
    assert accuracy.difference == pytest.approx(-1 / 12)
    assert {k.model_id for k in kept_audits(store)} == {"smollm2-135m-instruct", "served-smollm2"}
