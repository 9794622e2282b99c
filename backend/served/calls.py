"""The requests that turn a served model's answers into token evidence: generate (K samples in one request) and
score a given answer (vLLM's prompt log-probabilities over the chat-templated prompt + answer ids)."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Optional, Sequence

from backend.errors import UserInputError
from backend.served.evidence import (Generation, ScoredAnswer, check_top_logprobs, parse_chat_choice,
                                     prompt_position_evidence)
from backend.served.http import OpenAIClient

Messages = Sequence[dict]
MAX_PARALLEL_SAMPLE_REQUESTS = 8  # requests in flight for the samples of a server that ignores `n`


def user_messages(prompt: str) -> list[dict]:
    """The chat UQ Lens sends for one prompt: a single user turn (as backend.text.generation templates it)."""
    return [{"role": "user", "content": prompt}]


def local_config_vocab_size(root: object) -> Optional[int]:
    """The `vocab_size` in config.json of a model folder `root` when that folder is readable here (a vLLM on this
    host names the folder it serves as its model's "root"), else None."""
    if not isinstance(root, str) or not root:
        return None
    try:
        value = json.loads((Path(root) / "config.json").read_text(encoding="utf-8")).get("vocab_size")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, int) and value > 0 else None


def vocab_size(client: OpenAIClient) -> int:
    """The width of the model's next-token distributions: the spec's vocab_size, else the `vocab_size` of the served
    folder's config.json when the server's /v1/models "root" is a folder on this machine (no OpenAI-compatible
    endpoint, vLLM's included, reports the width itself; kept in the client's spec once found), else a UserInputError
    saying how to set it."""
    if client.spec.vocab_size is not None:
        return client.spec.vocab_size
    found = local_config_vocab_size(client.check_model().get("root"))
    if found is not None:
        client.spec = replace(client.spec, vocab_size=found)  # found once: later requests skip /v1/models
        return found
    raise UserInputError(f"entropy bounds for {client.spec.label} need the model's vocabulary size (the width of "
                         f"its logits, `vocab_size` in its config.json); set \"vocab_size\" in its models-file entry "
                         f"or add &vocab_size=N to its UQLENS_TEXT_MODELS location")


def chat_body(client: OpenAIClient, messages: Messages, *, n: int, max_tokens: int, temperature: float,
              top_p: float, seed: Optional[int], top_logprobs: int) -> dict:
    """The /v1/chat/completions body for n answers with their log-probabilities (token ids asked of vLLM only)."""
    body = {"model": client.spec.model, "messages": list(messages), "n": n, "max_tokens": max_tokens,
            "temperature": temperature, "top_p": top_p, "logprobs": True, "top_logprobs": top_logprobs}
    if seed is not None:
        body["seed"] = seed
    if client.spec.engine == "vllm":
        body["return_token_ids"] = True
    return body


def one_per_request(client: OpenAIClient, body: dict, count: int) -> list[dict]:
    """`count` more answers for a server that ignores `n` (llama.cpp's server answers n > 1 with one choice): one
    request each with n = 1 and seed + 1, seed + 2, ... (when seeded), sent concurrently; their choices in order."""
    bodies = [{**body, "n": 1, **({"seed": body["seed"] + i} if "seed" in body else {})}
              for i in range(1, count + 1)]
    with ThreadPoolExecutor(max_workers=min(count, MAX_PARALLEL_SAMPLE_REQUESTS)) as pool:
        replies = list(pool.map(lambda b: client.post("/chat/completions", b), bodies))
    return [(reply.get("choices") or [None])[0] for reply in replies]


def generate(client: OpenAIClient, messages: Messages, *, n: int = 1, max_tokens: int = 64,
             temperature: float = 0.0, top_p: float = 1.0, seed: Optional[int] = 0,
             top_logprobs: int = 5) -> Generation:
    """n answers to a chat (the server applies the chat template, adding the generation prompt) from one
    /v1/chat/completions request, each token with its log-probability and top_logprobs alternatives; a server
    that ignores `n` (one choice back) is asked for the others one request each (one_per_request).

    temperature 0 is greedy (n must then be 1); seed makes sampling reproducible on servers that honour it.
    """
    check_top_logprobs(top_logprobs)
    if n < 1 or (temperature == 0 and n > 1):
        raise UserInputError(f"n = {n} samples: ask for at least 1, and for more than 1 only with temperature > 0 "
                             f"(greedy answers are all the same)")
    body = chat_body(client, messages, n=n, max_tokens=max_tokens, temperature=temperature, top_p=top_p, seed=seed,
                     top_logprobs=top_logprobs)
    width = vocab_size(client)
    reply = client.post("/chat/completions", body)
    choices = sorted(reply.get("choices") or [], key=lambda c: c.get("index", 0))
    if len(choices) == 1 and n > 1:
        choices += one_per_request(client, body, n - 1)
    if len(choices) != n or None in choices:
        raise UserInputError(f"asked {client.spec.label} for {n} samples, got {len(choices)}; the server may not "
                             f"support `n`")
    prompt_ids = reply.get("prompt_token_ids")
    return Generation(model=client.spec.model, prompt_token_ids=tuple(prompt_ids) if prompt_ids else None,
                      samples=tuple(parse_chat_choice(c, width, client.spec.label, client.spec.engine != "vllm")
                                    for c in choices),
                      top_logprobs=top_logprobs, temperature=temperature)


def tokenize(client: OpenAIClient, body: dict) -> list[int]:
    """Token ids from vLLM's /tokenize (never adding special tokens: the chat template carries them)."""
    reply = client.post_root("/tokenize", {"model": client.spec.model, "add_special_tokens": False, **body})
    return list(reply["tokens"])


def chat_prompt_ids(client: OpenAIClient, messages: Messages) -> list[int]:
    """The ids the engine feeds the model for a chat before the answer: its chat template with the generation
    prompt, then tokenised without extra special tokens, exactly as backend.text.generation.build_model_input."""
    return tokenize(client, {"messages": list(messages), "add_generation_prompt": True})


def cannot_score(client: OpenAIClient) -> UserInputError:
    """The message for a server that cannot score a given text."""
    return UserInputError(f"{client.spec.label} cannot score a given answer: that needs the server's prompt "
                          f"log-probabilities (vLLM's prompt_logprobs), which a generic OpenAI-compatible server "
                          f"does not return; generate an answer instead, or serve the model with vLLM")


def score_ids(client: OpenAIClient, prompt_ids: Sequence[int], answer_ids: Sequence[int],
              top_logprobs: int = 5) -> ScoredAnswer:
    """The answer ids after the prompt ids scored token by token: one /v1/completions request over prompt + answer
    with prompt_logprobs = top_logprobs (vLLM: each answer token's log-probability, its exact rank in the whole
    vocabulary, and the top alternatives, from one teacher-forced pass)."""
    if client.spec.engine != "vllm":
        raise cannot_score(client)
    width = vocab_size(client)
    reply = client.post("/completions", {"model": client.spec.model, "prompt": list(prompt_ids) + list(answer_ids),
                                         "max_tokens": 1, "temperature": 0.0, "prompt_logprobs": top_logprobs})
    choice = (reply.get("choices") or [{}])[0]
    positions = choice.get("prompt_logprobs") or reply.get("prompt_logprobs")
    if not positions or len(positions) != len(prompt_ids) + len(answer_ids):
        raise cannot_score(client)
    start = len(prompt_ids)
    tokens = tuple(prompt_position_evidence(positions[start + i], tid, top_logprobs, width)
                   for i, tid in enumerate(answer_ids))
    return ScoredAnswer(model=client.spec.model, prompt_token_ids=tuple(prompt_ids),
                        answer_token_ids=tuple(answer_ids), tokens=tokens)


def score_answer(client: OpenAIClient, messages: Messages, answer: str, top_logprobs: int = 5) -> ScoredAnswer:
    """The given `answer` to a chat scored token by token (score_ids): chat template + answer tokenised as for
    local models (template ids, then the answer's ids without special tokens)."""
    check_top_logprobs(top_logprobs)
    if client.spec.engine != "vllm":
        raise cannot_score(client)
    if not answer:
        raise UserInputError("the answer to score is empty; type an answer or generate one")
    return score_ids(client, chat_prompt_ids(client, messages), tokenize(client, {"prompt": answer}), top_logprobs)


def cannot_continue(client: OpenAIClient) -> UserInputError:
    """The message for a server that cannot continue an answer from a forced beginning."""
    return UserInputError(f"{client.spec.label} cannot continue an answer from a prefix: that needs a server that "
                          f"continues given token ids and scores them (vLLM's /v1/completions with token-id prompts "
                          f"and prompt_logprobs), which a generic OpenAI-compatible server does not offer; leave the "
                          f"prefix out, or serve the model with vLLM")


def continue_ids(client: OpenAIClient, context_ids: Sequence[int], *, max_tokens: int, temperature: float,
                 top_p: float, seed: Optional[int]) -> tuple[list[int], str, Optional[str]]:
    """The ids vLLM generates after context_ids (chat-templated prompt + forced prefix, fed as token ids so the
    prefix is not re-tokenised) from one /v1/completions request, their text (special tokens left out) and the
    choice's finish reason."""
    if client.spec.engine != "vllm":
        raise cannot_continue(client)
    body = {"model": client.spec.model, "prompt": list(context_ids), "max_tokens": max_tokens,
            "temperature": temperature, "top_p": top_p, "return_token_ids": True}
    if seed is not None:
        body["seed"] = seed
    choice = (client.post("/completions", body).get("choices") or [{}])[0]
    if not isinstance(choice.get("token_ids"), list):
        raise cannot_continue(client)
    return list(choice["token_ids"]), str(choice.get("text") or ""), choice.get("finish_reason")
