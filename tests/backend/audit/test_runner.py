"""The audit runner: precomputed and digits audits, cancel and resume, a SIGKILLed audit resumed, overrides."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from backend.analyses import calibration as cal
from backend.audit import qa_items, runner
from backend.audit.store import AuditStore
from backend.engine import Engine
from backend.errors import ItemNotFoundError, UserInputError
from backend.schemas.audit import AuditRequest

ROOT = Path(__file__).resolve().parents[3]
DIGITS = dict(dataset="builtin-digits", methods=["softmax", "predictive_entropy", "margin"])


@pytest.fixture
def store(tmp_path) -> AuditStore:
    return AuditStore(f"sqlite:///{tmp_path}/audit.sqlite")


@pytest.fixture(scope="module")
def cpu_engine() -> Engine:
    return Engine(device="cpu")


def test_precomputed_csv_audit_runs_no_model(tmp_path, store):
    rng = np.random.default_rng(0)
    conf = rng.uniform(0, 1, 60)
    hit = (rng.uniform(0, 1, 60) < conf).astype(int)
    lines = ["id,correct,p,entropy_uncertainty"] + [f"r{i},{h},{c:.6f},{1 - c:.6f}" for i, (h, c) in
                                                    enumerate(zip(hit, conf))]
    path = tmp_path / "scores.csv"
    path.write_text("\n".join(lines) + "\n")
    request = AuditRequest(dataset=str(path), methods=["p", "entropy_uncertainty"], batch_size=16)
    result = runner.run_audit(request, engine=None, store=store)
    assert result.n == 60 and result.model_id == "(precomputed)"
    rounded = np.array([float(f"{c:.6f}") for c in conf])
    assert result.metrics["p"].ece == pytest.approx(cal.expected_calibration_error(rounded, hit, 10), abs=1e-12)
    assert result.metrics["p"].auroc == pytest.approx(result.metrics["entropy_uncertainty"].auroc)
    assert result.metrics["entropy_uncertainty"].confidence_source.startswith("Platt")
    assert result.rank_correlation["p"]["entropy_uncertainty"] == pytest.approx(-1.0)
    with pytest.raises(UserInputError, match="no such column"):
        runner.plan_audit(AuditRequest(dataset=str(path), methods=["semantic_entropy"]))


def test_digits_audit_classwise_ece_and_cancel_resume(store, cpu_engine):
    request = AuditRequest(**DIGITS, limit=40, batch_size=10)
    calls = []
    original = runner.run_batch

    def counting(engine, req, plan, indices):
        calls.append(list(indices))
        return original(engine, req, plan, indices)

    runner.run_batch = counting
    try:
        partial = runner.run_audit(request, cpu_engine, store, should_stop=lambda: len(calls) >= 2)
        assert partial.n == 20 and partial.extra["complete"] is False
        seen = []
        full = runner.run_audit(request, cpu_engine, store, progress=lambda d, n, eta: seen.append((d, n, eta)))
    finally:
        runner.run_batch = original
    assert [i for batch in calls for i in batch] == list(range(40))  # nothing computed twice
    assert seen[0] == (20, 40, None) and seen[-1][:2] == (40, 40) and seen[-1][2] == 0.0
    assert full.n == 40 and full.extra["complete"] and full.accuracy > 0.8
    softmax = full.metrics["softmax"]
    probs = np.array([i.probs for i in full.items])
    labels = np.array([i.label for i in full.items])
    assert softmax.classwise_ece == pytest.approx(cal.classwise_ece(probs, labels, 10))
    assert softmax.ece == pytest.approx(cal.expected_calibration_error(*cal.top_label(probs, labels), 10))
    assert softmax.multiclass_nll == pytest.approx(cal.multiclass_nll(probs, labels))
    assert full.metrics["margin"].classwise_ece is None


def test_sigkilled_audit_resumes_without_redoing_or_losing_items(tmp_path, cpu_engine):
    url = f"sqlite:///{tmp_path}/killed.sqlite"
    process = subprocess.Popen([sys.executable, "-m", "tests.backend.audit.kill_audit", url, "30"], cwd=ROOT,
                               stdout=subprocess.PIPE, text=True, env={**os.environ, "UQLENS_DEVICE": "cpu"})
    try:
        for line in process.stdout:
            if int(line) >= 5:
                break
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=60)
    request = AuditRequest(dataset="builtin-digits", methods=["softmax", "margin"], limit=30, batch_size=1)
    store = AuditStore(url)
    plan = runner.plan_audit(request)
    kept_before = {i.index: i for i in store.items(plan.audit_id)}
    assert 5 <= len(kept_before) < 30
    computed = []
    original = runner.run_batch
    runner.run_batch = lambda e, r, p, idx: computed.extend(idx) or original(e, r, p, idx)
    try:
        result = runner.run_audit(request, cpu_engine, store)
    finally:
        runner.run_batch = original
    assert sorted(computed) == sorted(set(range(30)) - set(kept_before))
    assert [i.index for i in result.items] == list(range(30))
    assert all(result.items[i] == item for i, item in kept_before.items())
    clean = runner.run_audit(request, cpu_engine, AuditStore(f"sqlite:///{tmp_path}/clean.sqlite"))
    assert [i.scores for i in clean.items] == [i.scores for i in result.items]
    assert [i.answer for i in clean.items] == [i.answer for i in result.items]


def test_override_changes_accuracy_and_is_kept(store, cpu_engine):
    request = AuditRequest(**DIGITS, limit=10)
    result = runner.run_audit(request, cpu_engine, store)
    first = result.items[0]
    store.set_override(result.audit_id, 0, not first.correct)
    again = runner.run_audit(request, cpu_engine, store)
    assert again.items[0].override is (not first.correct)
    assert again.accuracy == pytest.approx(result.accuracy + (0.1 if not first.correct else -0.1))
    with pytest.raises(ItemNotFoundError):
        store.set_override(result.audit_id, 99, True)


def scores_csv(tmp_path, n: int = 60) -> Path:
    """A precomputed-scores CSV of n rows (columns correct, p)."""
    rng = np.random.default_rng(1)
    conf = rng.uniform(0, 1, n)
    lines = ["id,correct,p"] + [f"r{i},{int(u < c)},{c:.6f}" for i, (u, c) in enumerate(zip(rng.uniform(0, 1, n),
                                                                                             conf))]
    path = tmp_path / "scores.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def counting_runs(monkeypatch) -> list[int]:
    """The item indices run_batch computes from now on."""
    computed: list[int] = []
    original = runner.run_batch
    monkeypatch.setattr(runner, "run_batch", lambda e, r, p, idx: computed.extend(idx) or original(e, r, p, idx))
    return computed


def test_a_larger_limit_reuses_the_finished_items(tmp_path, store, monkeypatch):
    path = scores_csv(tmp_path)
    computed = counting_runs(monkeypatch)
    first = runner.run_audit(AuditRequest(dataset=str(path), methods=["p"], limit=20), None, store)
    more = runner.run_audit(AuditRequest(dataset=str(path), methods=["p"], limit=44), None, store)
    assert computed == list(range(44))  # items 0-19 computed once, by the first run
    assert more.audit_id == first.audit_id and more.n == 44 and more.items[:20] == first.items
    fewer = runner.run_audit(AuditRequest(dataset=str(path), methods=["p"], limit=10), None, store)
    assert fewer.n == 10 and [i.index for i in fewer.items] == list(range(10)) and len(computed) == 44
    progress = runner.start_audit(AuditRequest(dataset=str(path), methods=["p"], limit=10), None, store)
    assert (progress.done, progress.total, progress.complete) == (10, 10, True)
    assert runner.plan_audit(AuditRequest(dataset=str(path), methods=["p"], limit=20, seed=1)).audit_id != \
        first.audit_id  # every other setting still names a different audit


def test_an_audit_kept_under_the_legacy_id_stays_readable_and_grows(tmp_path, store, monkeypatch):
    path = scores_csv(tmp_path)
    old_request = AuditRequest(dataset=str(path), methods=["p"], limit=20)
    plan = runner.plan_audit(old_request)
    legacy = runner.legacy_audit_id(old_request, plan.dataset.sha256)
    created = store.start(legacy, old_request, plan.dataset.dataset_id, 20)
    store.save_items(legacy, runner.run_batch(None, old_request, plan, list(range(20))))
    store.set_override(legacy, 3, True)
    read = runner.summarize_audit(old_request, store)
    assert read.n == 20 and read.created_at == created and read.items[3].override is True
    computed = counting_runs(monkeypatch)
    grown = runner.run_audit(AuditRequest(dataset=str(path), methods=["p"], limit=30), None, store)
    assert computed == list(range(20, 30)) and grown.n == 30 and grown.items[3].override is True
    assert store.created_at(legacy) is None and not store.items(legacy)


def test_metrics_carry_intervals_reasons_and_small_sample_warnings(tmp_path, store):
    path = scores_csv(tmp_path)
    result = runner.run_audit(AuditRequest(dataset=str(path), methods=["p"], limit=60), None, store)
    p = result.metrics["p"]
    assert set(p.ci) == {"ece", "mce", "ace", "brier", "nll", "auroc", "auprc", "aurc", "prr"}
    assert all(low <= getattr(p, name) <= high for name, (low, high) in p.ci.items() if name not in ("ece", "mce"))
    assert p.warnings[0].startswith("only 60 items: below 100")
    right = tmp_path / "right.csv"
    right.write_text("id,correct,p,entropy_uncertainty\n" + "".join(f"r{i},1,0.9,{i / 10}\n" for i in range(8)))
    clean = runner.run_audit(AuditRequest(dataset=str(right), methods=["p", "entropy_uncertainty"]), None, store)
    assert clean.metrics["p"].auroc is None
    assert clean.metrics["p"].undefined["auroc"].startswith("every item is right")
    assert clean.metrics["entropy_uncertainty"].undefined["ece"].startswith("Platt scaling needs right and wrong")


def test_temperature_that_does_not_help_is_flagged():
    from backend.audit.methods import given_method
    from backend.audit.summary import RECALIBRATION_FAILED, method_metrics
    from backend.schemas.audit import AuditItem

    conf = [0.9, 0.8, 0.7, 0.6, 0.9, 0.8, 0.7, 0.6, 0.55, 0.95]
    correct = [1, 0, 1, 1, 0, 1, 1, 0, 1, 1]
    items = [AuditItem(index=i, id=str(i), question="", answers=[], answer="", correct=bool(y), grading="given",
                     scores={"p": c}) for i, (c, y) in enumerate(zip(conf, correct))]
    metrics = method_metrics(given_method("p", "confident", conf), items, seed=0)
    assert metrics.ece_eval_after >= metrics.ece_eval_before  # T fitted on 5 items makes the other 5 worse
    assert RECALIBRATION_FAILED in metrics.warnings
    assert any("occupied bins" in w for w in metrics.warnings)


def test_a_question_batch_takes_its_models_and_locks_from_the_engines_pool(tmp_path, monkeypatch):
    """Answers are generated under the text model's lock, grading embeds under the embedder's, and neither lock is
    held past its step (stand-in models: only the runner's use of the pool is under test)."""
    from types import SimpleNamespace

    from backend.audit.batch_text import AnsweredQuestion
    from backend.audit.grading import Verdict
    from backend.models import pool as pool_module

    engine = Engine(cache_dir=tmp_path, device="cpu")
    request = AuditRequest(limit=2, batch_size=2)
    pool, seen = engine.pool, []

    def embed(texts):
        seen.append(("embed", pool.lock(request.model).locked(), pool.lock(request.embedding_model).locked()))
        return np.ones((len(texts), 4), dtype=np.float32)

    monkeypatch.setitem(pool_module.LOADERS, "text", lambda spec, *_: SimpleNamespace(spec=spec))
    monkeypatch.setitem(pool_module.LOADERS, "embedding", lambda spec, *_: SimpleNamespace(spec=spec, embed=embed))

    def answer_batch(lm, questions, max_new_tokens):
        seen.append(("answer", pool.lock(request.model).locked(), pool.lock(request.embedding_model).locked()))
        return [AnsweredQuestion("Paris", [1], [-0.5], [0.1]) for _ in questions]

    def grade(answer, aliases, embed_texts, threshold, question):
        embed_texts(["Paris"])
        return Verdict(correct=True, grading="embedding", similarity=1.0, reason="stand-in")

    monkeypatch.setattr(qa_items, "answer_batch", answer_batch)
    monkeypatch.setattr(qa_items, "grade", grade)
    plan = runner.plan_audit(request)
    items = runner.run_batch(engine, request, plan, [0, 1])
    assert [item.scores["mean_logprob"] for item in items] == [-0.5, -0.5]
    assert seen == [("answer", True, False), ("embed", False, True), ("embed", False, True)]
    assert pool.loaded_ids() == sorted([request.model, request.embedding_model])
    assert not pool.lock(request.model).locked() and not pool.lock(request.embedding_model).locked()


PINNED_REQUEST = dict(dataset="builtin-qa", model="smollm2-135m-instruct", methods=["mean_logprob", "max_entropy"],
                      limit=12, batch_size=4, seed=3)
PINNED_SHA256 = "ab" * 32


@pytest.mark.parametrize("concurrency", [None, 1, 8, 64])
def test_audit_ids_kept_in_stores_stay_the_same_at_any_concurrency(concurrency):
    """The ids this request had before the concurrency setting existed (computed on main before it came), so every
    audit already kept in a store keeps its id and resumes."""
    extra = {} if concurrency is None else {"concurrency": concurrency}
    request = AuditRequest(**PINNED_REQUEST, **extra)
    assert runner.audit_id_for(request, PINNED_SHA256) == "09d21aff209a4bdb"
    assert runner.legacy_audit_id(request, PINNED_SHA256) == "cfa3ffd4c307b17f"
    assert runner.audit_id_for(AuditRequest(**extra), "0" * 64) == "ab129b84b5379daf"
    assert runner.legacy_audit_id(AuditRequest(**extra), "0" * 64) == "c7fbdcd869b98cf9"


def test_a_run_recorded_at_another_concurrency_is_the_same_audit(tmp_path, store, monkeypatch):
    path = scores_csv(tmp_path)
    computed = counting_runs(monkeypatch)
    first = runner.run_audit(AuditRequest(dataset=str(path), methods=["p"], limit=10, concurrency=2), None, store)
    again = runner.run_audit(AuditRequest(dataset=str(path), methods=["p"], limit=20, concurrency=16), None, store)
    assert again.audit_id == first.audit_id and computed == list(range(20)) and again.items[:10] == first.items
