"""analyze_text on a served model against a real vLLM (tests/backend/served/conftest.py starts it): the served
TextAnalysis equals the in-process one of the same model on the same ids (log-probabilities within LOGPROB_TOL,
the tolerance test_against_vllm measures and states), the exact in-process entropy lies inside each token's
entropy_bounds, and attention, saliency or a sequence method that needs the full distribution on a served model
is a clear 4xx through the service."""
from __future__ import annotations

from typing import Iterator

import pytest
import torch
from fastapi.testclient import TestClient

from backend.clients.local import LocalClient
from backend.engine import Engine
from backend.errors import UserInputError
from backend.models.registry import build_registry
from backend.schemas import TextAnalysis, TextRequest
from backend.service.app import create_app
from backend.service.settings import ServiceSettings
from backend.store.repository import Store
from backend.text.generation import answer_logits
from tests.backend.served.test_against_vllm import LOGPROB_TOL
from tests.vllm_server import SERVED_NAME

pytestmark = [pytest.mark.vllm, pytest.mark.slow]

SERVED_ID = "served-smollm2"
PROMPT = "What is the capital of France?"


@pytest.fixture(scope="module")
def served_engine(vllm_url, default_vocab_size, engine) -> Engine:
    """An engine whose registry adds the vLLM-served default model as SERVED_ID (nothing loaded in-process)."""
    registry = build_registry({"UQLENS_TEXT_MODELS": f"{SERVED_ID}=openai+{vllm_url}#{SERVED_NAME}"
                                                     f"&vocab_size={default_vocab_size}"})
    return Engine(registry, cache_dir=engine.cache_dir, device="cpu")


def assert_same_tokens(served: TextAnalysis, local: TextAnalysis) -> None:
    """Token by token: the same id and text, log-probabilities within LOGPROB_TOL, the exact entropy inside the
    served bounds and the served midpoint as `entropy`, the same rank where the server knows it."""
    assert served.tokens and len(served.tokens) <= len(local.tokens)
    for mine, theirs in zip(served.tokens, local.tokens):
        assert (mine.id, mine.text, mine.position) == (theirs.id, theirs.text, theirs.position)
        assert mine.logprob == pytest.approx(theirs.logprob, abs=LOGPROB_TOL)
        lower, upper = mine.entropy_bounds
        assert lower - LOGPROB_TOL <= theirs.entropy <= upper + LOGPROB_TOL
        assert mine.entropy == pytest.approx((lower + upper) / 2)
        assert mine.rank is None or mine.rank == theirs.rank
        assert [a.prob for a in mine.top_k] == pytest.approx([a.prob for a in theirs.top_k], abs=LOGPROB_TOL)


def test_a_served_greedy_answer_equals_the_in_process_analysis(served_engine, engine):
    request = dict(prompt=PROMPT, max_new_tokens=16)
    served = served_engine.analyze_text(TextRequest(model=SERVED_ID, **request))
    local = engine.analyze_text(TextRequest(**request))
    assert (served.engine, served.model, served.mode, served.chat_template) == ("vllm", SERVED_ID, "generate", True)
    assert served.answer_start == local.answer_start and served.ids[:served.answer_start] == local.ids[
        :local.answer_start]
    assert served.model_input == local.model_input  # the engine's chat template is UQ Lens's
    assert_same_tokens(served, local)
    assert [t.rank for t in served.tokens] == [1] * len(served.tokens)  # greedy, and every rank known
    assert local.tokens[len(served.tokens):] == [] or all(t.special for t in local.tokens[len(served.tokens):])
    assert served.generated_text == local.generated_text and served.stop_reason == local.stop_reason
    assert served.exact == {"prob": True, "logprob": True, "margin": True, "rank": True, "entropy": False}
    assert "midpoint of entropy_bounds" in served.exactness_note and served.prompt_tokens == []
    assert local.engine == "in-process" and local.exact is None and local.tokens[0].entropy_bounds is None


def test_a_given_answer_scored_by_the_engine_equals_the_in_process_scores(served_engine, engine):
    request = dict(prompt=PROMPT, answer="I think it is Lyon, or maybe Paris.")
    served = served_engine.analyze_text(TextRequest(model=SERVED_ID, **request))
    local = engine.analyze_text(TextRequest(**request))
    assert served.mode == "score" and served.stop_reason == "scored" and len(served.tokens) == len(local.tokens)
    assert_same_tokens(served, local)
    assert [t.rank for t in served.tokens] == [t.rank for t in local.tokens]  # vLLM ranks beyond the top-k too
    assert max(t.rank for t in served.tokens) > 20 and served.exact["rank"]


def test_every_rank_of_a_sampled_answer_is_exact_even_beyond_the_top_k(served_engine, default_lm):
    """Each served rank lies within the in-process ranks the token can have when log-probabilities within
    LOGPROB_TOL of its own count as ties (deep in the tail, fp32 neighbours differ by less than that)."""
    served = served_engine.analyze_text(TextRequest(model=SERVED_ID, prompt="Write one strange word.",
                                                    max_new_tokens=24, do_sample=True, temperature=2.0, seed=7))
    logprobs = torch.log_softmax(answer_logits(default_lm, served.ids, served.answer_start).double(), dim=-1)
    chosen = logprobs.gather(1, torch.tensor(served.ids[served.answer_start:])[:, None])
    best = ((logprobs > chosen + LOGPROB_TOL).sum(dim=-1) + 1).tolist()
    worst = (logprobs >= chosen - LOGPROB_TOL).sum(dim=-1).tolist()
    assert all(b <= t.rank <= w for t, b, w in zip(served.tokens, best, worst))
    assert max(t.rank for t in served.tokens) > 20 and served.exact["rank"]
    assert [t.logprob for t in served.tokens] == pytest.approx(chosen.squeeze(1).tolist(), abs=LOGPROB_TOL)


@pytest.fixture(scope="module")
def served_api(served_engine, tmp_path_factory) -> Iterator[TestClient]:
    """The service over the served engine (nothing preloaded)."""
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('served-store') / 'db.sqlite'}")
    app = create_app(LocalClient(engine=served_engine, store=store), ServiceSettings(preload_model=None))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_the_service_analyses_a_served_model_and_refuses_what_needs_the_process_clearly(served_api):
    reply = served_api.post("/v1/text", json={"model": SERVED_ID, "prompt": PROMPT, "max_new_tokens": 4})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["engine"] == "vllm" and len(body["tokens"][0]["entropy_bounds"]) == 2
    analysed = {"model": SERVED_ID, "ids": body["ids"], "answer_start": body["answer_start"]}
    for path, body in (("/v1/text/attention", analysed), ("/v1/text/saliency", analysed)):
        refused = served_api.post(path, json=body)
        assert 400 <= refused.status_code < 500, (path, refused.status_code, refused.text)
        assert "needs a model loaded in UQ Lens's process" in refused.text
    sequence = {"text": {"model": SERVED_ID, "prompt": PROMPT, "max_new_tokens": 4}, "samples": 2}
    kurtosis = served_api.post("/v1/sequence", json={**sequence, "methods": ["mean_kurtosis"]})
    assert kurtosis.status_code == 422 and "needs the full next-token distribution" in kurtosis.text
    sampled = served_api.post("/v1/sequence", json={**sequence, "methods": ["predictive_entropy"]})
    assert sampled.status_code == 200, sampled.text
    models = {m["id"]: m for m in served_api.get("/v1/models").json()}
    assert models[SERVED_ID]["engine"] == "vllm" and "attention" not in models[SERVED_ID]["capabilities"]


def test_a_generic_openai_server_gives_the_same_numbers_without_ids_and_cannot_score(served_engine, vllm_url,
                                                                                     default_vocab_size, engine):
    registry = build_registry({"UQLENS_TEXT_MODELS": f"generic=openai+{vllm_url}#{SERVED_NAME}&engine=openai"
                                                     f"&vocab_size={default_vocab_size}"})
    generic = Engine(registry, cache_dir=engine.cache_dir, device="cpu")
    request = dict(prompt=PROMPT, max_new_tokens=6)
    plain = generic.analyze_text(TextRequest(model="generic", **request))
    served = served_engine.analyze_text(TextRequest(model=SERVED_ID, **request))
    assert plain.engine == "openai" and plain.ids == [] and plain.model_input == PROMPT
    assert all(t.id is None for t in plain.tokens) and [t.text for t in plain.tokens] == [t.text for t in served.tokens]
    assert [t.logprob for t in plain.tokens] == pytest.approx([t.logprob for t in served.tokens], abs=LOGPROB_TOL)
    with pytest.raises(UserInputError, match="cannot score a given answer"):
        generic.analyze_text(TextRequest(model="generic", prompt=PROMPT, answer="Paris."))
