"""K samples from one batched generate call; their log-probabilities against a direct transformers forward."""
from __future__ import annotations

import pytest
import torch

from backend.sequence.sampling import sample_answers
from backend.text.generation import build_model_input, eos_ids

K = 4


@pytest.fixture(scope="module")
def prompt_ids(tiny_lm):
    return build_model_input(tiny_lm, "Name a colour.", None)[1]


def direct_logprobs(lm, input_ids: list[int], answer_ids: list[int], temperature: float) -> list[float]:
    """log p of each answer token from one teacher-forced forward over prompt + answer (the reference)."""
    ids = torch.tensor([input_ids + answer_ids])
    with torch.inference_mode():
        logits = lm.model(input_ids=ids).logits[0, len(input_ids) - 1:-1].double()
    return torch.log_softmax(logits / temperature, -1).gather(1, torch.tensor(answer_ids)[:, None])[:, 0].tolist()


@pytest.mark.parametrize("temperature", [1.0, 0.6])
def test_sample_logprobs_equal_a_direct_forward(tiny_lm, prompt_ids, temperature):
    samples = sample_answers(tiny_lm, prompt_ids, k=K, temperature=temperature, max_new_tokens=6, seed=3)
    assert len(samples) == K
    for sample in samples:
        assert len(sample.ids) == len(sample.token_logprobs) >= 1
        assert sample.token_logprobs == pytest.approx(direct_logprobs(tiny_lm, prompt_ids, sample.ids, temperature),
                                                      abs=1e-4)


def test_same_seed_same_samples_and_another_seed_differs(tiny_lm, prompt_ids):
    first = sample_answers(tiny_lm, prompt_ids, k=K, temperature=1.0, max_new_tokens=6, seed=0)
    again = sample_answers(tiny_lm, prompt_ids, k=K, temperature=1.0, max_new_tokens=6, seed=0)
    other = sample_answers(tiny_lm, prompt_ids, k=K, temperature=1.0, max_new_tokens=6, seed=1)
    assert [s.ids for s in first] == [s.ids for s in again]
    assert [s.token_logprobs for s in first] == [s.token_logprobs for s in again]
    assert [s.ids for s in first] != [s.ids for s in other]


def test_all_samples_come_from_one_generate_call(tiny_lm, prompt_ids, monkeypatch):
    calls = []
    real = tiny_lm.model.generate

    def counting(*args, **kwargs):
        calls.append(kwargs["num_return_sequences"])
        return real(*args, **kwargs)
    monkeypatch.setattr(tiny_lm.model, "generate", counting)
    sample_answers(tiny_lm, prompt_ids, k=5, temperature=1.0, max_new_tokens=3, seed=0)
    assert calls == [5]


def test_samples_stop_at_their_first_end_token(tiny_lm, prompt_ids, monkeypatch):
    stop = next(iter(eos_ids(tiny_lm)))
    monkeypatch.setattr(tiny_lm.model.generation_config, "eos_token_id", stop)
    with torch.no_grad():
        bias = torch.zeros(tiny_lm.model.config.vocab_size)
        bias[stop] = 8.0  # make the end token likely so some samples end early
        tiny_lm.model.lm_head.bias = torch.nn.Parameter(bias)
    try:
        samples = sample_answers(tiny_lm, prompt_ids, k=8, temperature=1.0, max_new_tokens=5, seed=0)
    finally:
        tiny_lm.model.lm_head.bias = None
    assert any(s.stop_reason == "eos" for s in samples)
    for sample in samples:
        assert (stop in sample.ids) == (sample.stop_reason == "eos")
        if sample.stop_reason == "eos":
            assert sample.ids.index(stop) == len(sample.ids) - 1
        else:
            assert len(sample.ids) == 5


def test_zero_samples_are_refused(tiny_lm, prompt_ids):
    with pytest.raises(ValueError, match="at least one"):
        sample_answers(tiny_lm, prompt_ids, k=0, temperature=1.0, max_new_tokens=2, seed=0)
