"""Audits through a real vLLM (the session's server, tests/vllm_server.py): the bundled questions answered with
4 requests in flight, each item's token scores those of analyze_served_text on the same question, metrics and
progress as for an in-process audit; and the same audit through a TCP proxy cut mid-audit: a clear error naming
the engine and the items kept, those items readable, and the same audit run again through a new proxy ends with
the items of the uninterrupted run.

Tolerance: vLLM's numbers depend on which requests it batches together (continuous batching changes the summation
order): measured here across concurrency 1 / 4 / 16 on the first 12 questions, log-probabilities moved by at most
2e-6 nats and the entropy estimates by at most 2.2e-5; scores are compared within LOGPROB_TOL (1e-4 nats, the
served tests' tolerance). Answers are compared exactly.
"""
from __future__ import annotations

from typing import Iterator
from urllib.parse import urlsplit

import pytest

from backend.audit import runner
from backend.audit.methods import resolve_text_methods
from backend.audit.store import AuditStore
from backend.engine import Engine
from backend.errors import BackendUnavailableError
from backend.models.registry import build_registry
from backend.schemas import TextRequest
from backend.schemas.audit import AuditItem, AuditRequest, AuditResult
from tests.backend.served.test_against_vllm import LOGPROB_TOL
from tests.tcp_proxy import TcpProxy
from tests.vllm_server import SERVED_NAME

pytestmark = [pytest.mark.vllm, pytest.mark.slow]

SERVED_ID = "served-smollm2"
METHODS = ["mean_logprob", "geo_mean_prob", "mean_entropy", "max_entropy", "perplexity"]
REQUEST = AuditRequest(model=SERVED_ID, methods=METHODS, limit=12, concurrency=4, max_new_tokens=16)


def served_engine(url: str, vocab_size: int, cache_dir) -> Engine:
    """An engine whose registry adds the model served at url (ending /v1) as SERVED_ID."""
    registry = build_registry({"UQLENS_TEXT_MODELS": f"{SERVED_ID}=openai+{url}#{SERVED_NAME}"
                                                     f"&vocab_size={vocab_size}"})
    return Engine(registry, cache_dir=cache_dir, device="cpu")


@pytest.fixture(scope="module")
def direct(vllm_url, default_vocab_size, engine) -> Engine:
    return served_engine(vllm_url, default_vocab_size, engine.cache_dir)


@pytest.fixture(scope="module")
def uninterrupted(direct, tmp_path_factory) -> tuple[AuditResult, list]:
    """The audit run straight through against the vLLM, with the progress calls it made."""
    store = AuditStore(f"sqlite:///{tmp_path_factory.mktemp('served-audit')}/audit.sqlite")
    seen: list = []
    result = runner.run_audit(REQUEST, direct, store, progress=lambda d, n, eta: seen.append((d, n, eta)))
    return result, seen


@pytest.fixture
def proxied(vllm_url, default_vocab_size, engine) -> Iterator:
    """(engine, proxy) of a fresh TCP proxy in front of the vLLM, shut down at the end."""
    target = urlsplit(vllm_url)
    with TcpProxy(target.hostname, target.port) as proxy:
        yield served_engine(f"http://127.0.0.1:{proxy.port}/v1", default_vocab_size, engine.cache_dir), proxy


def assert_same_items(mine: list[AuditItem], theirs: list[AuditItem]) -> None:
    """The same items: indices, answers and gradings exactly, scores and their bounds within LOGPROB_TOL."""
    assert [(i.index, i.answer, i.correct, i.grading) for i in mine] == \
        [(i.index, i.answer, i.correct, i.grading) for i in theirs]
    for a, b in zip(mine, theirs):
        assert a.scores == pytest.approx(b.scores, abs=LOGPROB_TOL)
        assert set(a.score_bounds) == set(b.score_bounds) == {"mean_entropy", "max_entropy"}
        for name in a.score_bounds:
            assert a.score_bounds[name] == pytest.approx(b.score_bounds[name], abs=LOGPROB_TOL)


def test_a_served_audit_answers_every_item_with_the_text_pages_numbers(uninterrupted, direct):
    result, seen = uninterrupted
    assert result.n == 12 and result.extra["complete"] and result.model_id == SERVED_ID
    assert all(item.answer for item in result.items)
    methods = resolve_text_methods(METHODS)
    for item in result.items:
        alone = direct.analyze_text(TextRequest(model=SERVED_ID, prompt=item.question, max_new_tokens=16, seed=0))
        assert alone.generated_text.strip() == item.answer
        logprobs, entropies = [t.logprob for t in alone.tokens], [t.entropy for t in alone.tokens]
        expected = {m.name: m.token_score(logprobs, entropies) for m in methods}
        assert item.scores == pytest.approx(expected, abs=LOGPROB_TOL)
        for name, side in (("mean_entropy", "mean"), ("max_entropy", "max")):
            lows, highs = ([t.entropy_bounds[k] for t in alone.tokens] for k in (0, 1))
            combine = (lambda v: sum(v) / len(v)) if side == "mean" else max
            assert item.score_bounds[name] == pytest.approx([combine(lows), combine(highs)], abs=LOGPROB_TOL)
            low, high = item.score_bounds[name]
            assert low <= item.scores[name] <= high
    assert set(result.metrics) == set(METHODS) and all(m.n == 12 for m in result.metrics.values())
    assert 0 < result.accuracy < 1 and all(m.auroc is not None for m in result.metrics.values())
    assert seen[0] == (0, 12, None) and seen[-1][:2] == (12, 12) and seen[-1][2] == 0.0
    assert [d for d, _, _ in seen] == sorted({d for d, _, _ in seen})  # done only grows, each call new


def test_an_engine_cut_mid_audit_keeps_what_finished_and_the_same_audit_resumes(uninterrupted, proxied, vllm_url,
                                                                                  default_vocab_size, engine,
                                                                                  tmp_path):
    served, proxy = proxied
    store = AuditStore(f"sqlite:///{tmp_path}/audit.sqlite")
    request = REQUEST.model_copy(update={"concurrency": 2})  # kept two by two; the same audit id

    def cut_after_four(done: int, total: int, _eta) -> None:
        if done >= 4:
            proxy.shutdown()

    with pytest.raises(BackendUnavailableError) as caught:
        runner.run_audit(request, served, store, progress=cut_after_four)
    kept = store.items(runner.plan_audit(request).audit_id)
    message = str(caught.value)
    assert f"the server of '{SERVED_NAME}' at http://127.0.0.1:{proxy.port}/v1" in message
    assert f"{len(kept)} of 12 items are kept" in message and "run the same audit again to resume" in message
    assert 4 <= len(kept) < 12
    full = {item.index: item for item in uninterrupted[0].items}
    assert_same_items(kept, [full[item.index] for item in kept])
    read = runner.summarize_audit(request, store)
    assert read.n == len(kept) and read.extra["complete"] is False
    target = urlsplit(vllm_url)
    with TcpProxy(target.hostname, target.port) as again:
        resumed_engine = served_engine(f"http://127.0.0.1:{again.port}/v1", default_vocab_size, engine.cache_dir)
        resumed = runner.run_audit(request, resumed_engine, store)
    assert resumed.n == 12 and resumed.extra["complete"] and resumed.audit_id == uninterrupted[0].audit_id
    assert again.connections >= 1
    assert_same_items(resumed.items, uninterrupted[0].items)
    assert [i.index for i in resumed.items] == list(range(12))
