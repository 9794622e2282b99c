"""Cascades from kept audits (no model runs: items are kept by hand under the ids real audits would use): defer_to
stays out of the audit id, the result gains the cascade of the two kept audits, refusals say what to run or change,
the HTML report has the section, and items kept before token log-probabilities were stay readable (SQLite and
PostgreSQL)."""
from __future__ import annotations

import pytest
from sqlalchemy import insert

from backend.audit import runner
from backend.audit.cascade_run import audits_to_run, check_deferral, deferral_request, format_cascade
from backend.audit.report import render_report
from backend.audit.store import AuditStore, audit_items
from backend.errors import UserInputError
from backend.schemas import DEFAULT_TEXT_MODEL
from backend.schemas.audit import BUILTIN_DIGITS, BUILTIN_QA, AuditItem, AuditRequest

SMALL_RIGHT = [True, False, True, False, True]
LARGE_RIGHT = [True, True, False, True, True]
LOGPROBS = [[-0.1, -0.2], [-2.0, -0.1, -0.3], [-0.5], [-1.0, -1.0], [-0.05, -0.9, -0.05, -0.05]]
REQUEST = AuditRequest(dataset=BUILTIN_QA, model="small-lm", methods=["mean_logprob"], limit=5, defer_to="large-lm")


@pytest.fixture
def store(tmp_path) -> AuditStore:
    return AuditStore(f"sqlite:///{tmp_path}/audit.sqlite")


def keep(store: AuditStore, request: AuditRequest, right: list[bool], logprobs=None) -> str:
    """Keep hand-made items for the first len(right) questions under the request's audit id."""
    plan = runner.plan_audit(request)
    runner.open_run(plan, request, store)
    items = []
    for index, correct in enumerate(right):
        question = plan.dataset.qa[index]
        tokens = logprobs[index] if logprobs else None
        items.append(AuditItem(index=index, id=question.id, question=question.question, answers=question.answers,
                               answer="an answer", correct=correct, grading="alias", token_logprobs=tokens,
                               scores={"mean_logprob": sum(tokens) / len(tokens) if tokens else None}))
    store.save_items(plan.audit_id, items)
    return plan.audit_id


def test_defer_to_is_not_part_of_the_audit_id():
    sha = "0" * 64
    alone = REQUEST.model_copy(update={"defer_to": None})
    assert runner.audit_id_for(REQUEST, sha) == runner.audit_id_for(alone, sha)
    assert runner.legacy_audit_id(REQUEST, sha) == runner.legacy_audit_id(alone, sha)
    large = deferral_request(REQUEST)
    assert large.model == "large-lm" and large.defer_to is None and large.methods == REQUEST.methods
    assert runner.audit_id_for(large, sha) != runner.audit_id_for(REQUEST, sha)  # its own audit


def test_the_result_carries_the_cascade_of_the_two_kept_audits(store):
    small_id = keep(store, REQUEST, SMALL_RIGHT, LOGPROBS)
    large_id = keep(store, deferral_request(REQUEST), LARGE_RIGHT)
    result = runner.summarize_audit(REQUEST, store)
    cascade = result.cascade
    assert result.audit_id == small_id and cascade.refused is None
    assert (cascade.small_audit_id, cascade.large_audit_id, cascade.n) == (small_id, large_id, 5)
    rules = {c.name: c for c in cascade.rules}
    assert rules["token_mean_nll"].accuracy == pytest.approx([0.6, 0.8, 1.0, 0.8, 0.8, 0.8])
    assert rules["mean_logprob"].accuracy == rules["token_mean_nll"].accuracy  # the same ranking, as a method
    assert cascade.oracle.accuracy == pytest.approx([0.6, 0.8, 1.0, 1.0, 1.0, 0.8])
    text = format_cascade(cascade)
    assert "best rule token_sum_nll" in text and "deferring 20%: accuracy 0.800 vs random 0.640" in text
    assert runner.summarize_audit(REQUEST.model_copy(update={"defer_to": None}), store).cascade is None
    report = render_report(result)
    assert "Cascade: small-lm deferring to large-lm" in report and "token_q95_nll" in report
    assert "Assumes: Both audits answered the same dataset" in report


def test_a_missing_second_audit_is_refused_with_what_to_run(store):
    registered = REQUEST.model_copy(update={"defer_to": DEFAULT_TEXT_MODEL})
    keep(store, registered, SMALL_RIGHT, LOGPROBS)
    cascade = runner.summarize_audit(registered, store).cascade
    assert cascade.rules == [] and f"no audit of '{DEFAULT_TEXT_MODEL}' on builtin-qa" in cascade.refused
    assert f"--defer-to {DEFAULT_TEXT_MODEL}" in cascade.refused
    assert "No cascade." in render_report(runner.summarize_audit(registered, store))


def test_a_model_to_defer_to_that_is_not_registered_is_named(store):
    keep(store, REQUEST, SMALL_RIGHT, LOGPROBS)
    refused = runner.summarize_audit(REQUEST, store).cascade.refused
    assert "'large-lm' is not a registered text model" in refused and DEFAULT_TEXT_MODEL in refused


def test_an_unfinished_second_audit_is_refused(store):
    keep(store, REQUEST, SMALL_RIGHT, LOGPROBS)
    keep(store, deferral_request(REQUEST), LARGE_RIGHT[:3])
    refused = runner.summarize_audit(REQUEST, store).cascade.refused
    assert "has not answered 2 of the 5 items" in refused and "running it again resumes" in refused


@pytest.mark.parametrize("request_, says", [
    (AuditRequest(dataset=BUILTIN_DIGITS, methods=["softmax"], defer_to="other"), "one digits classifier"),
    (REQUEST.model_copy(update={"defer_to": "small-lm"}), "the audited model itself"),
])
def test_one_model_is_refused_before_anything_runs(store, request_, says):
    with pytest.raises(UserInputError, match=says):
        check_deferral(request_)
    with pytest.raises(UserInputError, match=says):
        audits_to_run(request_)
    assert says in runner.summarize_audit(request_, store).cascade.refused


def test_audits_to_run_puts_the_large_model_first():
    assert [r.model for r in audits_to_run(REQUEST)] == ["large-lm", "small-lm"]
    assert audits_to_run(REQUEST.model_copy(update={"defer_to": None})) == [REQUEST.model_copy(
        update={"defer_to": None})]


def test_items_kept_before_token_logprobs_still_load(database_url):
    store = AuditStore(database_url)
    old = AuditItem(index=0, id="q0", question="q", answers=["a"], answer="a", correct=True, grading="alias",
                    scores={"mean_logprob": -0.2})
    payload = old.model_dump_json(exclude={"token_logprobs"})
    assert "token_logprobs" not in payload
    with store.engine.begin() as connection:
        connection.execute(insert(audit_items).values(audit_id="0123456789abcdef", item_index=0, payload=payload))
    new = old.model_copy(update={"index": 1, "token_logprobs": [-0.1, -0.3]})
    store.save_items("0123456789abcdef", [new])
    loaded = store.items("0123456789abcdef")
    assert loaded[0] == old and loaded[0].token_logprobs is None and loaded[1].token_logprobs == [-0.1, -0.3]
