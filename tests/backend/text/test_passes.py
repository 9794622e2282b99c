"""Chunked passes through the key-value cache equal one forward pass, and long prompts are read once."""
from __future__ import annotations

import pytest
import torch

import backend.sequence.sampling as sampling
import backend.text.generation as text_generation
import backend.text.passes as text_passes
from backend.budget import Budget, DeadlineExceeded, WorkCancelled, working_under
from backend.errors import UserInputError
from backend.schemas import TextRequest
from backend.text.passes import forward_chunks

PROMPT = "Tell me about the rivers of Europe, the mountains they come from and the seas they reach. " * 6


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunking from 24 tokens on, 8 positions a chunk, so the tiny model's short contexts take the long path."""
    for module in (text_passes, text_generation, sampling):
        monkeypatch.setattr(module, "SINGLE_PASS_TOKENS", 24, raising=False)
    monkeypatch.setattr(text_passes, "CHUNK_TOKENS", 8)


def direct_logits(lm, ids: list[int]) -> torch.Tensor:
    with torch.inference_mode():
        tensor = torch.tensor([ids])
        return lm.model(input_ids=tensor, attention_mask=torch.ones_like(tensor)).logits[0].float()


def test_chunked_logits_equal_one_forward_pass(tiny_lm, small_chunks):
    ids = tiny_lm.tokenizer(PROMPT)["input_ids"][:90]
    rows: dict[int, torch.Tensor] = {}
    cache = forward_chunks(tiny_lm, ids, lambda start, logits: rows.update({start: logits.clone()}))
    assert sorted(rows) == list(range(0, 90, 8))
    chunked = torch.cat([rows[start] for start in sorted(rows)])
    assert chunked.shape == (90, len(tiny_lm.tokenizer))
    assert torch.allclose(chunked, direct_logits(tiny_lm, ids), atol=1e-5)
    assert cache.get_seq_length() == 90


def test_a_short_sequence_is_one_pass_equal_to_the_direct_forward_bit_for_bit(tiny_lm):
    ids = tiny_lm.tokenizer("What is the capital of France?")["input_ids"]
    rows = []
    forward_chunks(tiny_lm, ids, lambda start, logits: rows.append((start, logits.clone())))
    assert [start for start, _ in rows] == [0]
    assert torch.equal(rows[0][1], direct_logits(tiny_lm, ids))


@pytest.mark.parametrize("fields", [dict(), dict(do_sample=True, temperature=0.9, seed=4),
                                    dict(answer="The Rhine and the Danube.")], ids=["greedy", "sampled", "scored"])
def test_a_long_prompt_gives_the_same_analysis_as_the_single_pass(tiny_lm, monkeypatch, fields):
    request = TextRequest(prompt=PROMPT, max_new_tokens=12, chat_template=False, **fields)
    single = text_generation.analyze_text(tiny_lm, request)
    for module in (text_passes, text_generation):
        monkeypatch.setattr(module, "SINGLE_PASS_TOKENS", 24, raising=False)
    monkeypatch.setattr(text_passes, "CHUNK_TOKENS", 8)
    chunked = text_generation.analyze_text(tiny_lm, request)
    assert chunked.ids == single.ids and chunked.stop_reason == single.stop_reason
    pairs = list(zip(single.prompt_tokens + single.tokens, chunked.prompt_tokens + chunked.tokens))
    assert len(pairs) == len(single.ids) - 1
    assert max(abs(a.logprob - b.logprob) for a, b in pairs) < 1e-4
    assert max(abs(a.entropy - b.entropy) for a, b in pairs) < 1e-4
    assert all(a.rank == b.rank and [t.id for t in a.top_k] == [t.id for t in b.top_k] for a, b in pairs)


def test_samples_of_a_long_prompt_share_one_prefill_and_equal_the_batched_ones(tiny_lm, monkeypatch):
    ids = tiny_lm.tokenizer(PROMPT)["input_ids"][:60]
    expected = sampling.sample_answers(tiny_lm, ids, k=3, temperature=0.8, max_new_tokens=6, seed=2)
    monkeypatch.setattr(sampling, "SINGLE_PASS_TOKENS", 24)
    monkeypatch.setattr(text_passes, "CHUNK_TOKENS", 8)
    shared = sampling.sample_answers(tiny_lm, ids, k=3, temperature=0.8, max_new_tokens=6, seed=2)
    assert [s.ids for s in shared] == [s.ids for s in expected]
    for a, b in zip(shared, expected):
        assert a.token_logprobs == pytest.approx(b.token_logprobs, abs=1e-4)


def test_generation_stops_at_a_cancel_and_reports_its_progress(tiny_lm):
    seen = []
    budget = Budget(on_progress=seen.append)
    original = budget.report

    def report_then_stop(stage, done, total):
        if stage == "tokens" and done >= 3:
            budget.cancel("Stop pressed")
        original(stage, done, total)

    budget.report = report_then_stop
    request = TextRequest(prompt="Once upon a time", max_new_tokens=40, do_sample=True, temperature=5.0)
    with working_under(budget), pytest.raises(WorkCancelled, match="Stop pressed.* 3 of 40 tokens"):
        text_generation.analyze_text(tiny_lm, request)
    assert [p.done for p in seen if p.stage == "tokens"][:3] == [1, 2, 3]


def test_a_request_past_its_deadline_stops(tiny_lm):
    request = TextRequest(prompt="Once upon a time", max_new_tokens=40, do_sample=True, temperature=5.0)
    with working_under(Budget(deadline_s=0.0)), pytest.raises(DeadlineExceeded):
        text_generation.analyze_text(tiny_lm, request)


def test_work_over_the_request_cap_is_refused_before_anything_runs(tiny_lm):
    request = TextRequest(prompt="Once upon a time", max_new_tokens=40)
    with working_under(Budget(max_token_passes=50)), pytest.raises(UserInputError, match="at most 50"):
        text_generation.analyze_text(tiny_lm, request)
    with working_under(Budget(max_token_passes=100)), pytest.raises(UserInputError, match="3 sampled answers"):
        sampling.sample_answers(tiny_lm, [1, 2, 3], k=3, temperature=1.0, max_new_tokens=40, seed=0)
