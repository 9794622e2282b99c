"""Live generation on the embedded default model: the streamed analysis is analyze_text's, a stopped one is the
analysis of the tokens kept, and the numbers shown while generating are the finished analysis' numbers."""
from __future__ import annotations

import math

import pytest
import torch

from backend.clients.local import LocalClient
from backend.schemas import TextRequest
from backend.streaming import TokenStream, streaming
from backend.text.generation import analyze_text
from backend.text.live import analyze_live_text

PROMPT = "Name three rivers of Europe and say where each one flows."
NUMBERS = ("prob", "logprob", "entropy", "margin")


@pytest.fixture(scope="module")
def client(engine):
    return LocalClient(engine=engine)


def without_time(analysis) -> dict:
    return analysis.model_dump(exclude={"seconds"})


@pytest.mark.parametrize("fields", [dict(), dict(do_sample=True, temperature=0.8, seed=7)], ids=["greedy", "sampled"])
def test_a_streamed_analysis_equals_the_non_streamed_one_exactly(client, fields):
    request = TextRequest(prompt=PROMPT, max_new_tokens=12, **fields)
    seen = []
    streamed = client.stream_text(request, on_token=seen.append)
    assert without_time(streamed) == without_time(client.analyze_text(request))
    assert [t.position for t in seen] == [t.position for t in streamed.tokens]


def test_the_numbers_shown_while_generating_are_the_finished_ones(client):
    request = TextRequest(prompt=PROMPT, max_new_tokens=12, do_sample=True, temperature=0.7, seed=3)
    seen = []
    final = client.stream_text(request, on_token=seen.append)
    assert len(seen) == len(final.tokens) == 12
    for live, done in zip(seen, final.tokens):
        assert (live.position, live.id, live.text, live.rank, live.special) == (
            done.position, done.id, done.text, done.rank, done.special)
        assert [a.id for a in live.top_k] == [a.id for a in done.top_k]
        for name in NUMBERS:  # the step ran through the key-value cache: equal up to float summation order
            assert getattr(live, name) == pytest.approx(getattr(done, name), abs=1e-4)


def test_finishing_after_n_tokens_analyses_exactly_those_tokens(client):
    request = TextRequest(prompt=PROMPT, max_new_tokens=40)
    seen = []
    stopped = client.stream_text(request, on_token=seen.append, should_stop=lambda: len(seen) >= 5)
    assert stopped.stop_reason == "stopped" and len(stopped.tokens) == len(seen) == 5
    full = client.analyze_text(request)
    assert stopped.ids == full.ids[:len(stopped.ids)]
    scored = client.analyze_text(request.model_copy(update={"answer": stopped.generated_text,
                                                            "max_new_tokens": 40}))
    assert scored.ids == stopped.ids  # the kept text re-tokenises to the same ids
    for kept, reference in zip(stopped.tokens, scored.tokens):
        assert (kept.id, kept.text, kept.rank) == (reference.id, reference.text, reference.rank)
        for name in NUMBERS:
            assert getattr(kept, name) == pytest.approx(getattr(reference, name), abs=1e-6)
    assert [s.value for s in stopped.summaries] == pytest.approx([s.value for s in scored.summaries], abs=1e-6)


def test_finish_before_the_first_token_keeps_one_token_and_finish_after_the_end_changes_nothing(default_lm):
    request = TextRequest(prompt="Say yes.", max_new_tokens=3)
    stream = TokenStream()
    stream.finish()
    with streaming(stream):
        one = analyze_live_text(default_lm, request)
    assert len(one.tokens) == 1 and one.stop_reason == "stopped"
    late = TokenStream(should_stop=lambda: False)
    with streaming(late):
        whole = analyze_live_text(default_lm, request)
    late.finish()
    assert whole.stop_reason in ("eos", "max_new_tokens") and not late.stopped_early


def test_a_live_token_is_the_softmax_at_the_request_temperature(client, default_lm):
    request = TextRequest(prompt=PROMPT, max_new_tokens=2, temperature=2.0)
    seen = []
    client.stream_text(request, on_token=seen.append)
    ids = torch.tensor([analyze_text(default_lm, request).ids[:seen[0].position]])
    with torch.inference_mode():
        logits = default_lm.model(input_ids=ids).logits[0, -1].double() / 2.0
    logprobs = torch.log_softmax(logits, -1)
    assert seen[0].logprob == pytest.approx(float(logprobs[seen[0].id]), abs=1e-4)
    assert seen[0].entropy == pytest.approx(float(-(logprobs.exp() * logprobs).sum()), abs=1e-4)
    assert math.isclose(sum(a.prob for a in seen[0].top_k), float(logprobs.exp().topk(5).values.sum()), abs_tol=1e-4)


def test_scoring_a_given_answer_publishes_nothing(client):
    seen = []
    request = TextRequest(prompt=PROMPT, answer="The Rhine.")
    assert without_time(client.stream_text(request, on_token=seen.append)) == without_time(client.analyze_text(request))
    assert seen == []


@pytest.mark.parametrize("fields", [dict(), dict(do_sample=True, temperature=0.9, seed=4)], ids=["greedy", "sampled"])
def test_a_long_prompt_read_in_chunks_streams_the_same_analysis(tiny_lm, monkeypatch, fields):
    import backend.text.generation as text_generation
    import backend.text.passes as text_passes

    monkeypatch.setattr(text_generation, "SINGLE_PASS_TOKENS", 24)
    monkeypatch.setattr(text_passes, "SINGLE_PASS_TOKENS", 24)
    monkeypatch.setattr(text_passes, "CHUNK_TOKENS", 8)
    request = TextRequest(model="tiny-random", prompt=PROMPT * 3, max_new_tokens=10, chat_template=False, **fields)
    seen = []
    with streaming(TokenStream(on_token=seen.append)):
        streamed = analyze_live_text(tiny_lm, request)
    assert without_time(streamed) == without_time(analyze_text(tiny_lm, request))
    assert [t.id for t in seen] == [t.id for t in streamed.tokens]
    assert [t.prob for t in seen] == pytest.approx([t.prob for t in streamed.tokens], abs=1e-4)
