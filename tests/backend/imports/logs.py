"""Log files for the import tests: OpenAI chat completions and vLLM completions built from chosen numbers, and an
OpenAI-format response built from an in-process TextAnalysis (its own probabilities and top-k)."""
from __future__ import annotations

import json
import math
from typing import Optional, Sequence

from backend.schemas import TextAnalysis

Token = tuple[str, float, Sequence[tuple[str, float]]]  # (text, logprob, [(alternative text, logprob), ...])


def chat_entry(text: str, logprob: float) -> dict:
    return {"token": text, "logprob": logprob, "bytes": list(text.encode("utf-8"))}


def chat_response(tokens: Sequence[Token], *, finish_reason: str = "stop", model: str = "m",
                  content: Optional[str] = None, choices: int = 1) -> dict:
    """A chat.completion with `choices` identical choices whose logprobs.content lists the tokens."""
    entries = [{**chat_entry(text, lp), "top_logprobs": [chat_entry(a, alp) for a, alp in top]}
               for text, lp, top in tokens]
    text = content if content is not None else "".join(t[0] for t in tokens)
    choice = {"message": {"role": "assistant", "content": text}, "logprobs": {"content": entries},
              "finish_reason": finish_reason}
    return {"object": "chat.completion", "model": model,
            "choices": [{**choice, "index": i} for i in range(choices)]}


def completion_response(tokens: Sequence[Token], *, finish_reason: str = "length", model: str = "m") -> dict:
    """A vLLM text_completion whose logprobs list the tokens (top_logprobs as {token: logprob})."""
    offsets, at = [], 0
    for text, _, _ in tokens:
        offsets.append(at)
        at += len(text)
    return {"object": "text_completion", "model": model, "choices": [{
        "index": 0, "text": "".join(t[0] for t in tokens), "finish_reason": finish_reason,
        "logprobs": {"tokens": [t[0] for t in tokens], "token_logprobs": [t[1] for t in tokens],
                     "top_logprobs": [dict(t[2]) for t in tokens], "text_offset": offsets}}]}


def jsonl(*lines: dict) -> str:
    return "\n".join(json.dumps(line) for line in lines) + "\n"


def response_from_analysis(result: TextAnalysis) -> dict:
    """An OpenAI chat.completion carrying the analysis' own numbers: each answer token's log-probability and its
    top-k alternatives (the chosen one's log-probability given exactly as the token's, as a server logs it)."""
    entries = []
    for token in result.tokens:
        top = [chat_entry(a.text, token.logprob if a.id == token.id else math.log(a.prob)) for a in token.top_k]
        entries.append({**chat_entry(token.text, token.logprob), "top_logprobs": top})
    return {"object": "chat.completion", "model": result.model, "choices": [{
        "index": 0, "message": {"role": "assistant", "content": result.generated_text},
        "logprobs": {"content": entries},
        "finish_reason": "stop" if result.stop_reason == "eos" else "length"}]}
