"""The served audit path without an engine: the bounded thread pool (never more in flight than asked, results as
they finish, a failure stops new starts but keeps what was in flight), items kept in groups as they finish, an
engine gone mid-audit (a clear error, the finished items kept, the same audit resumed), methods a served model
cannot give refused before anything runs, and the concurrency option of the CLI."""
from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

from backend.audit import qa_items, runner
from backend.audit.batch_served import bounded_map
from backend.audit.batch_text import AnsweredQuestion
from backend.audit.grading import Verdict
from backend.audit.store import AuditStore
from backend.cli import build_parser
from backend.cli.audit import build_request
from backend.engine import Engine
from backend.errors import BackendBusyError, BackendUnavailableError, UserInputError
from backend.models import pool as pool_module
from backend.models.registry import build_registry
from backend.schemas.audit import AuditItem, AuditRequest

DEAD_URL = "http://127.0.0.1:9/v1"  # nothing listens on the discard port: a request would fail at once


class InFlight:
    """work(i) that sleeps a little and records how many calls run at once (the largest count is `peak`)."""

    def __init__(self, fail_at: int = -1) -> None:
        self.lock, self.now, self.peak, self.started = threading.Lock(), 0, 0, []
        self.fail_at = fail_at

    def __call__(self, index: int) -> int:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
            self.started.append(index)
        try:
            time.sleep(0.02 + 0.01 * (index % 3))
            if index == self.fail_at:
                raise BackendUnavailableError("cannot reach the server of 'm' at http://x/v1")
            return index
        finally:
            with self.lock:
                self.now -= 1


@pytest.mark.parametrize("concurrency", [1, 3, 8])
def test_bounded_map_keeps_at_most_concurrency_in_flight_and_yields_everything(concurrency):
    work = InFlight()
    results = list(bounded_map(work, range(20), concurrency))
    assert sorted(results) == list(range(20)) and work.peak == concurrency
    assert sorted(work.started) == list(range(20))  # each item started once


def test_bounded_map_after_a_failure_starts_nothing_new_keeps_those_in_flight_then_raises():
    work, seen = InFlight(fail_at=5), []
    with pytest.raises(BackendUnavailableError, match="cannot reach"):
        for result in bounded_map(work, range(40), 4):
            seen.append(result)
    started = set(work.started)
    assert 5 in started and 5 not in seen and set(seen) == started - {5}  # every other started item came back
    assert max(started) <= 5 + 4 and len(started) < 40  # nothing started after the failure was seen


def test_bounded_map_stops_starting_when_asked():
    work, seen = InFlight(), []
    for result in bounded_map(work, range(30), 2, should_stop=lambda: len(seen) >= 6):
        seen.append(result)
    assert 6 <= len(seen) <= 8 and sorted(seen) == sorted(work.started)


def served_engine(tmp_path, monkeypatch, engine_name: str = "vllm") -> Engine:
    """An engine whose registry has a served text model 'served' (at a dead address: nothing may reach it) and
    stand-in embedding and grading (only the runner's use of them is under test)."""
    registry = build_registry({"UQLENS_TEXT_MODELS": f"served=openai+{DEAD_URL}#m&engine={engine_name}"})
    monkeypatch.setitem(pool_module.LOADERS, "embedding", lambda spec, *_: SimpleNamespace(
        spec=spec, embed=lambda texts: np.ones((len(texts), 4), dtype=np.float32)))
    monkeypatch.setattr(qa_items, "grade", lambda answer, aliases, embed, threshold, question: Verdict(
        correct=answer.endswith("0"), grading="alias", similarity=None, reason="stand-in"))
    return Engine(registry, cache_dir=tmp_path, device="cpu")


def stand_in_answers(monkeypatch, fail_from: int = 10**6) -> list[str]:
    """answer_question replaced by one that answers each question with a text of its own (logprobs from its
    length, entropies 0.2 within [0.1, 0.3]) and fails like an engine gone away from the (fail_from + 1)-th call
    on; returns the questions asked."""
    asked = []

    def answer(lm, question, max_new_tokens, seed):
        asked.append(question)
        if len(asked) > fail_from:
            raise BackendUnavailableError(f"cannot reach the server of {lm.spec.served.label} (ConnectError)")
        value = -0.01 * len(question)
        return AnsweredQuestion(f"answer {len(question)}", [1, 2], [value, value], [0.2, 0.2],
                                [(0.1, 0.3), (0.1, 0.3)])

    monkeypatch.setattr(qa_items, "answer_question", answer)
    return asked


def test_items_are_kept_in_groups_and_what_finished_before_a_failure_too(tmp_path):
    store = AuditStore(f"sqlite:///{tmp_path}/audit.sqlite")
    plan = runner.plan_audit(AuditRequest(limit=5))
    counts = []

    def items():
        for index in range(3):
            yield AuditItem(index=index, id=str(index), question="q", answers=[], answer="a", correct=True,
                            grading="alias", scores={})
        raise BackendUnavailableError("gone")

    with pytest.raises(BackendUnavailableError):
        runner.keep_as_finished(store, plan, items(), 2, counts.append)
    assert counts == [2, 3] and store.finished_indices(plan.audit_id) == {0, 1, 2}


def test_an_engine_gone_mid_audit_keeps_what_finished_and_the_same_audit_resumes(tmp_path, monkeypatch):
    engine = served_engine(tmp_path, monkeypatch)
    store = AuditStore(f"sqlite:///{tmp_path}/audit.sqlite")
    request = AuditRequest(model="served", methods=["mean_logprob", "max_entropy"], limit=12, concurrency=1)
    stand_in_answers(monkeypatch, fail_from=5)
    seen = []
    with pytest.raises(BackendUnavailableError) as caught:
        runner.run_audit(request, engine, store, progress=lambda d, n, eta: seen.append((d, n)))
    message = str(caught.value)
    assert message.startswith(f"cannot reach the server of 'm' at {DEAD_URL}")
    assert "5 of 12 items are kept" in message and "run the same audit again to resume" in message
    plan = runner.plan_audit(request)
    assert store.finished_indices(plan.audit_id) == {0, 1, 2, 3, 4}
    assert seen == [(done, 12) for done in range(6)]  # kept one by one: groups of min(batch_size, concurrency)
    item = store.items(plan.audit_id)[0]
    assert item.scores["max_entropy"] == 0.2 and item.score_bounds == {"max_entropy": [0.1, 0.3]}
    asked = stand_in_answers(monkeypatch)
    result = runner.run_audit(request.model_copy(update={"concurrency": 4}), engine, store)
    assert len(asked) == 7 and result.n == 12 and result.extra["complete"] and result.audit_id == plan.audit_id


def test_a_rate_limited_engine_stays_a_busy_error_with_its_wait(tmp_path, monkeypatch):
    engine = served_engine(tmp_path, monkeypatch)
    store = AuditStore(f"sqlite:///{tmp_path}/audit.sqlite")

    def busy(lm, question, max_new_tokens, seed):
        raise BackendBusyError("the server of 'm' is rate-limiting these requests (429)", retry_after_s=7.0)

    monkeypatch.setattr(qa_items, "answer_question", busy)
    with pytest.raises(BackendBusyError, match="0 of 3 items are kept") as caught:
        runner.next_batch(AuditRequest(model="served", limit=3), engine, store)
    assert caught.value.retry_after_s == 7.0


def test_next_batch_on_a_served_model_computes_at_least_concurrency_items(tmp_path, monkeypatch):
    engine = served_engine(tmp_path, monkeypatch)
    store = AuditStore(f"sqlite:///{tmp_path}/audit.sqlite")
    stand_in_answers(monkeypatch)
    request = AuditRequest(model="served", limit=30, batch_size=4, concurrency=12)
    runner.start_audit(request, engine, store)
    first = runner.next_batch(request, engine, store)
    assert (first.computed, first.done, first.complete) == (12, 12, False)
    assert runner.step_size(engine, request.model_copy(update={"model": "smollm2-135m-instruct"}),
                            runner.plan_audit(request)) == 4  # an in-process model keeps its batches


def test_methods_a_served_model_cannot_give_are_refused_before_anything_runs(tmp_path, monkeypatch):
    engine = served_engine(tmp_path, monkeypatch, engine_name="openai")
    store = AuditStore(f"sqlite:///{tmp_path}/audit.sqlite")
    asked = stand_in_answers(monkeypatch)
    request = AuditRequest(model="served", methods=["mean_logprob", "semantic_entropy"], limit=3)
    with pytest.raises(UserInputError) as caught:
        runner.start_audit(request, engine, store)
    assert str(caught.value).startswith("'served' cannot give semantic_entropy (needs the server to score a given "
                                        "answer")
    with pytest.raises(UserInputError, match="cannot give semantic_entropy"):
        runner.run_audit(request, engine, store)
    assert asked == [] and not store.items(runner.plan_audit(request).audit_id)
    tokens_only = runner.run_audit(request.model_copy(update={"methods": ["mean_logprob"]}), engine, store)
    assert tokens_only.n == 3 and len(asked) == 3


def test_the_cli_passes_the_concurrency_and_checks_its_range():
    args = build_parser().parse_args(["audit", "--concurrency", "16", "--limit", "5"])
    assert build_request(args).concurrency == 16
    assert build_request(build_parser().parse_args(["audit"])).concurrency == 8
    with pytest.raises(ValueError, match="concurrency"):
        build_request(build_parser().parse_args(["audit", "--concurrency", "65"]))
