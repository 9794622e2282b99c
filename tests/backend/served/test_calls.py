"""generate / score_answer against scripted servers (httpx.MockTransport) for what a real vLLM never does:
a server that drops log-probabilities, ignores `n`, or cannot score; and the checks made before any request."""
from __future__ import annotations

import json
import math

import httpx
import pytest

from backend.errors import UserInputError
from backend.served.calls import generate, score_answer, user_messages, vocab_size
from backend.served.config import ServedModel
from backend.served.http import OpenAIClient

SPEC = ServedModel(location="http://engine.test/v1", model="m", engine="openai", vocab_size=100)


def answering(body: dict, spec: ServedModel = SPEC) -> tuple[OpenAIClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=body)
    return OpenAIClient(spec, transport=httpx.MockTransport(handler)), seen


def entry(token: str, p: float) -> dict:
    return {"token": token, "logprob": math.log(p), "bytes": list(token.encode())}


def test_a_server_without_logprobs_gets_a_clear_message():
    client, _ = answering({"choices": [{"index": 0, "message": {"content": "Paris"}, "logprobs": None}]})
    with pytest.raises(UserInputError, match="returned no log-probabilities; token analysis needs a server"):
        generate(client, user_messages("Capital of France?"))


def test_a_server_ignoring_n_is_asked_for_the_other_samples_one_request_each():
    choice = {"index": 0, "message": {"content": "A"},
              "logprobs": {"content": [{**entry("A", 0.5), "top_logprobs": [entry("A", 0.5), entry("B", 0.3)]}]}}
    client, seen = answering({"choices": [choice]})
    generation = generate(client, user_messages("Hi"), n=3, temperature=1.0, seed=7)
    assert [s.text for s in generation.samples] == ["A", "A", "A"]
    bodies = sorted((json.loads(r.read()) for r in seen), key=lambda b: b["seed"])
    assert [(b["n"], b["seed"]) for b in bodies] == [(3, 7), (1, 8), (1, 9)]
    assert all("return_token_ids" not in b for b in bodies)  # a generic server gets standard parameters only


def test_a_server_answering_some_but_not_all_samples_is_named():
    choice = {"index": 0, "message": {"content": "A"},
              "logprobs": {"content": [{**entry("A", 0.5), "top_logprobs": [entry("A", 0.5), entry("B", 0.3)]}]}}
    client, _ = answering({"choices": [choice, {**choice, "index": 1}]})
    with pytest.raises(UserInputError, match="asked 'm' at http://engine.test/v1 for 3 samples, got 2"):
        generate(client, user_messages("Hi"), n=3, temperature=1.0)


def test_a_generic_server_reads_top_logprobs_as_the_true_top_k():
    choice = {"index": 0, "message": {"content": "B"},
              "logprobs": {"content": [{**entry("B", 0.3), "top_logprobs": [entry("A", 0.5), entry("B", 0.3)]}]}}
    client, _ = answering({"choices": [choice]})
    token = generate(client, user_messages("Hi"), n=1, temperature=1.0).samples[0].tokens[0]
    assert token.rank == 2 and token.prob == pytest.approx(0.3)


def test_checks_before_any_request():
    client, seen = answering({})
    with pytest.raises(UserInputError, match="greedy answers are all the same"):
        generate(client, user_messages("Hi"), n=2, temperature=0.0)
    with pytest.raises(UserInputError, match="from 2 to 20"):
        generate(client, user_messages("Hi"), top_logprobs=50)
    with pytest.raises(UserInputError, match="cannot score a given answer"):
        score_answer(client, user_messages("Hi"), "Hello")
    assert seen == []


def test_a_vllm_without_prompt_logprobs_cannot_score():
    spec = ServedModel(location="http://engine.test/v1", model="m", vocab_size=100)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/tokenize":
            return httpx.Response(200, json={"tokens": [1, 2, 3]})
        return httpx.Response(200, json={"choices": [{"index": 0, "text": "x"}]})
    client = OpenAIClient(spec, transport=httpx.MockTransport(handler))
    with pytest.raises(UserInputError, match="cannot score a given answer: that needs the server's prompt"):
        score_answer(client, user_messages("Hi"), "Hello")


def models_answering(root: str) -> OpenAIClient:
    """A client of a spec without vocab_size whose server lists 'm' served from folder `root`."""
    body = {"object": "list", "data": [{"id": "m", "object": "model", "root": root}]}
    spec = ServedModel(location="http://engine.test/v1", model="m", engine="vllm")
    return OpenAIClient(spec, transport=httpx.MockTransport(lambda request: httpx.Response(200, json=body)))


def test_vocab_size_comes_from_the_served_folders_config_when_it_is_on_this_machine(tmp_path):
    (tmp_path / "config.json").write_text('{"vocab_size": 49152}')
    assert vocab_size(models_answering(str(tmp_path))) == 49152


def test_without_vocab_size_anywhere_the_message_says_how_to_set_it(tmp_path):
    client = models_answering(str(tmp_path / "elsewhere"))
    with pytest.raises(UserInputError, match="need the model's vocabulary size .* &vocab_size=N to its UQLENS_TEXT"):
        vocab_size(client)
    with pytest.raises(UserInputError, match="need the model's vocabulary size"):
        generate(client, user_messages("Hi"))
