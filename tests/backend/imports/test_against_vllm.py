"""Real vLLM responses (its chat and completions endpoints, with log-probabilities) imported as logged."""
from __future__ import annotations

import json
import math

import httpx
import pytest

from backend.imports.analysis import import_logs
from backend.schemas.imports import ImportRequest
from tests.vllm_server import SERVED_NAME

pytestmark = pytest.mark.vllm
PROMPT = "What is the capital of France? Answer in one word."


def post(url: str, path: str, body: dict) -> dict:
    response = httpx.post(f"{url}{path}", json={"model": SERVED_NAME, **body}, timeout=120)
    response.raise_for_status()
    return response.json()


def test_a_vllm_chat_completion_with_samples_imports_with_its_own_numbers(vllm_url, default_vocab_size):
    reply = post(vllm_url, "/chat/completions", {
        "messages": [{"role": "user", "content": PROMPT}], "max_tokens": 12, "n": 3, "temperature": 1.0,
        "seed": 0, "logprobs": True, "top_logprobs": 5})
    result = import_logs(None, ImportRequest(content=json.dumps({**reply, "prompt": PROMPT, "reference": "Paris"}),
                                             vocab_size=default_vocab_size))
    (group,) = result.groups
    assert group.format == "chat" and group.prompt == PROMPT and len(group.analysis.samples) == 3
    logged = reply["choices"][0]["logprobs"]["content"]
    text = group.analysis.text
    assert text.model == SERVED_NAME and text.generated_text == reply["choices"][0]["message"]["content"]
    assert [t.logprob for t in text.tokens] == [e["logprob"] for e in logged]
    assert [t.text for t in text.tokens] == [bytes(e["bytes"]).decode("utf-8", "replace") for e in logged]
    if reply["choices"][0]["finish_reason"] == "stop":
        assert text.tokens[-1].special and text.tokens[-1].text == "<|im_end|>"
    for token, entry in zip(text.tokens, logged):
        assert token.top_k[0].prob == pytest.approx(math.exp(max(a["logprob"] for a in entry["top_logprobs"])))
        lower, upper = token.entropy_bounds
        assert lower <= token.entropy <= upper
    totals = [sum(e["logprob"] for e in c["logprobs"]["content"]) for c in reply["choices"]]
    scores = {s.name: s.value for s in group.analysis.scores}
    assert scores["predictive_entropy"] == pytest.approx(-sum(totals) / 3)
    assert scores["sequence_probability"] == pytest.approx(math.exp(totals[0]))
    assert group.correct is not None


def test_a_vllm_completion_imports_with_its_own_numbers(vllm_url, default_vocab_size):
    reply = post(vllm_url, "/completions", {"prompt": "The capital of France is", "max_tokens": 6,
                                            "temperature": 0, "logprobs": 5})
    result = import_logs(None, ImportRequest(content=json.dumps(reply), vocab_size=default_vocab_size))
    text = result.groups[0].analysis.text
    logged = reply["choices"][0]["logprobs"]
    assert result.groups[0].format == "completion" and text.generated_text == reply["choices"][0]["text"]
    assert [t.text for t in text.tokens] == logged["tokens"]
    assert [t.logprob for t in text.tokens] == logged["token_logprobs"]
    assert all(t.rank == 1 for t in text.tokens)  # greedy: each chosen token is the most likely
