"""The served path against a real vLLM (tests/backend/served/conftest.py starts it): the engine's numbers equal
UQ Lens's in-process forward over the same model and the same token ids, and each failure gives its message.

Tolerance: vLLM's CPU build (fp32, eager) and transformers' eager fp32 forward sum in different orders; measured
here over three prompts and 24-token greedy answers, the chosen tokens' log-probabilities differ by at most
2.8e-5 nats (mean 9e-6) and the top-20 alternatives' by at most 4.5e-5; LOGPROB_TOL = 1e-4 nats.
"""
from __future__ import annotations

import math

import pytest
import torch

from backend.errors import BackendUnavailableError, UserInputError
from backend.schemas import TextRequest
from backend.served.calls import generate, score_answer, user_messages
from backend.served.config import ServedModel
from backend.served.http import OpenAIClient
from backend.text.generation import build_model_input, generate_ids, score_ids
from tests.vllm_server import SERVED_NAME, free_port

pytestmark = [pytest.mark.vllm, pytest.mark.slow]

LOGPROB_TOL = 1e-4
PROMPTS = ("What is the capital of France?", "Write a haiku about rain.")
MAX_TOKENS = 20
K = 20


def in_process(lm, prompt_ids: list[int], answer_ids: list[int]):
    """In-process statistics of the answer rows: (logprob, entropy, rank, top_probs), one row per answer id."""
    stats = score_ids(lm, prompt_ids + answer_ids, 1.0, K)
    rows = slice(len(prompt_ids) - 1, len(prompt_ids) - 1 + len(answer_ids))
    return stats.logprob[rows], stats.entropy[rows], stats.rank[rows], stats.top_probs[rows]


@pytest.mark.parametrize("prompt", PROMPTS)
def test_greedy_answer_matches_the_in_process_forward(served, default_lm, prompt):
    _, local_prompt_ids, _ = build_model_input(default_lm, prompt, None)
    generation = generate(served, user_messages(prompt), max_tokens=MAX_TOKENS, top_logprobs=K)
    sample = generation.samples[0]
    assert list(generation.prompt_token_ids) == local_prompt_ids  # the server's chat template = UQ Lens's
    answer_ids = list(sample.token_ids)
    assert answer_ids == generate_ids(default_lm, local_prompt_ids, TextRequest(prompt=prompt,
                                                                                max_new_tokens=MAX_TOKENS))
    logprob, entropy, rank, top_probs = in_process(default_lm, local_prompt_ids, answer_ids)
    served_logprob = torch.tensor([t.logprob for t in sample.tokens], dtype=torch.float64)
    assert torch.allclose(served_logprob, logprob, atol=LOGPROB_TOL, rtol=0)
    for token, h, r, probs in zip(sample.tokens, entropy.tolist(), rank.tolist(), top_probs):
        assert token.entropy.lower - LOGPROB_TOL <= h <= token.entropy.upper + LOGPROB_TOL
        assert token.rank == r == 1  # greedy: the most likely token, in both
        served_top = [a.logprob for a in token.top]
        assert served_top == pytest.approx(torch.log(probs[:len(served_top)]).tolist(), abs=LOGPROB_TOL)
        assert token.prob == pytest.approx(math.exp(token.logprob))


def test_given_answer_is_scored_on_the_same_ids_with_exact_ranks(served, default_lm):
    prompt, answer = PROMPTS[0], "I think it is Lyon, or maybe Paris."
    _, local_prompt_ids, _ = build_model_input(default_lm, prompt, None)
    local_answer_ids = default_lm.tokenizer(answer, add_special_tokens=False)["input_ids"]
    scored = score_answer(served, user_messages(prompt), answer, top_logprobs=K)
    assert list(scored.prompt_token_ids) == local_prompt_ids and list(scored.answer_token_ids) == local_answer_ids
    logprob, entropy, rank, _ = in_process(default_lm, local_prompt_ids, local_answer_ids)
    assert torch.allclose(torch.tensor([t.logprob for t in scored.tokens], dtype=torch.float64), logprob,
                          atol=LOGPROB_TOL, rtol=0)
    assert [t.rank for t in scored.tokens] == rank.tolist()  # vLLM ranks every scored token, beyond top-k too
    assert max(rank.tolist()) > K  # the answer has tokens beyond the top-20: their rank is still exact
    assert all(t.exact["rank"] for t in scored.tokens)
    for token, h in zip(scored.tokens, entropy.tolist()):
        assert token.entropy.lower - LOGPROB_TOL <= h <= token.entropy.upper + LOGPROB_TOL


def test_k_samples_come_back_from_one_request_with_their_logprobs(served, default_lm):
    prompt = "Tell me one fact about the Moon."
    generation = generate(served, user_messages(prompt), n=4, temperature=1.0, seed=3, max_tokens=12,
                          top_logprobs=5)
    assert len(generation.samples) == 4 and len({s.text for s in generation.samples}) > 1
    prompt_ids = list(generation.prompt_token_ids)
    for sample in generation.samples:
        assert len(sample.tokens) == len(sample.token_ids) > 0
        logprob, entropy, _, _ = in_process(default_lm, prompt_ids, list(sample.token_ids))
        # vLLM reports raw log-probabilities (before temperature): the in-process numbers at temperature 1
        assert torch.allclose(torch.tensor([t.logprob for t in sample.tokens], dtype=torch.float64), logprob,
                              atol=LOGPROB_TOL, rtol=0)
        assert sample.logprob == pytest.approx(float(logprob.sum()), abs=LOGPROB_TOL * len(sample.tokens))
        for token, h in zip(sample.tokens, entropy.tolist()):
            assert token.entropy.lower - LOGPROB_TOL <= h <= token.entropy.upper + LOGPROB_TOL


def test_a_wrong_model_name_lists_the_served_ones(vllm_url, default_vocab_size):
    with OpenAIClient(ServedModel(location=vllm_url, model="llama-70b", vocab_size=default_vocab_size)) as client:
        with pytest.raises(UserInputError, match=f"does not serve a model named 'llama-70b'; it serves "
                                                 f"'{SERVED_NAME}'"):
            generate(client, user_messages("Hi"), max_tokens=2)


def test_an_unreachable_port_says_so():
    spec = ServedModel(location=f"http://127.0.0.1:{free_port()}/v1", model=SERVED_NAME, vocab_size=10,
                       connect_timeout_s=2.0)
    with OpenAIClient(spec) as client:
        with pytest.raises(BackendUnavailableError, match="cannot reach the server of 'smollm2' at http://127.0"):
            generate(client, user_messages("Hi"), max_tokens=2)


def test_a_generic_openai_server_cannot_score_a_given_answer(vllm_url, default_vocab_size):
    spec = ServedModel(location=vllm_url, model=SERVED_NAME, engine="openai", vocab_size=default_vocab_size)
    with OpenAIClient(spec) as client:
        with pytest.raises(UserInputError, match="cannot score a given answer: that needs the server's prompt"):
            score_answer(client, user_messages("Hi"), "Hello")
        sample = generate(client, user_messages("Hi"), max_tokens=3).samples[0]  # standard parameters only
        assert sample.token_ids is None and len(sample.tokens) == 3


def test_the_api_key_never_appears_in_errors_or_reprs(vllm_url, default_vocab_size, monkeypatch):
    secret = "sk-uqlens-test-7f3a9c1e5b"
    monkeypatch.setenv("UQLENS_SERVED_TEST_KEY", secret)
    spec = ServedModel(location=vllm_url, model="missing-model", api_key_env="UQLENS_SERVED_TEST_KEY",
                       vocab_size=default_vocab_size)
    with OpenAIClient(spec) as client:
        with pytest.raises(UserInputError) as err:
            generate(client, user_messages("Hi"), max_tokens=2)
        texts = [str(err.value), repr(err.value), repr(spec), repr(client), str(vars(spec))]
    assert all(secret not in text for text in texts)
