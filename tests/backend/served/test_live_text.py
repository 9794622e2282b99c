"""Live generation on a served model against a real vLLM: each token arrives as its chunk does, the finished
analysis equals the non-streamed served analysis, and a stop closes the stream and analyses the tokens so far."""
from __future__ import annotations

import pytest

from backend.clients.local import LocalClient
from backend.engine import Engine
from backend.models.registry import build_registry
from backend.schemas import TextRequest
from tests.backend.served.test_against_vllm import LOGPROB_TOL
from tests.vllm_server import SERVED_NAME

pytestmark = [pytest.mark.vllm, pytest.mark.slow]

SERVED_ID = "served-smollm2"
PROMPT = "Name three rivers of Europe and say where each one flows."


@pytest.fixture(scope="module")
def client(vllm_url, default_vocab_size, engine) -> LocalClient:
    registry = build_registry({"UQLENS_TEXT_MODELS": f"{SERVED_ID}=openai+{vllm_url}#{SERVED_NAME}"
                                                     f"&vocab_size={default_vocab_size}"})
    return LocalClient(engine=Engine(registry, cache_dir=engine.cache_dir, device="cpu"))


def without_time(analysis) -> dict:
    return analysis.model_dump(exclude={"seconds"})


@pytest.mark.parametrize("fields", [dict(), dict(do_sample=True, temperature=0.8, seed=7)], ids=["greedy", "sampled"])
def test_a_streamed_served_analysis_equals_the_non_streamed_one(client, fields):
    request = TextRequest(model=SERVED_ID, prompt=PROMPT, max_new_tokens=16, **fields)
    seen = []
    streamed = client.stream_text(request, on_token=seen.append)
    assert without_time(streamed) == without_time(client.analyze_text(request))
    assert [(t.position, t.id, t.text) for t in seen] == [(t.position, t.id, t.text) for t in streamed.tokens]
    for live, done in zip(seen, streamed.tokens):  # the chunk's numbers and the re-scoring pass's
        assert live.logprob == pytest.approx(done.logprob, abs=LOGPROB_TOL)


def test_a_stop_closes_the_stream_and_the_tokens_so_far_are_scored(client):
    request = TextRequest(model=SERVED_ID, prompt=PROMPT, max_new_tokens=200)
    seen = []
    stopped = client.stream_text(request, on_token=seen.append, should_stop=lambda: len(seen) >= 4)
    assert stopped.stop_reason == "stopped" and len(stopped.tokens) == len(seen) == 4
    full = client.analyze_text(request.model_copy(update={"max_new_tokens": 4}))
    assert stopped.ids == full.ids
    assert [t.logprob for t in stopped.tokens] == pytest.approx([t.logprob for t in full.tokens], abs=1e-9)


def test_a_given_answer_on_a_served_model_is_analysed_without_streaming(client):
    seen = []
    request = TextRequest(model=SERVED_ID, prompt=PROMPT, answer="The Rhine.")
    assert without_time(client.stream_text(request, on_token=seen.append)) == without_time(client.analyze_text(request))
    assert seen == []
