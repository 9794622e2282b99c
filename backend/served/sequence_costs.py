"""What a SequenceRequest will cost on a served text model (the operations table's served pipeline of
estimate_sequence_cost): the same passes per piece of evidence as in-process (backend.sequence.costs), with an
engine pass timed as one short request: a request for TIMED_STEPS new tokens (n = batch sequences), its seconds
divided by the steps (the round trip and the prefill included, so it errs high), timed once per batch size and
kept by the pool like an in-process pass."""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

from backend.schemas.sequence import MethodCost, SequenceRequest
from backend.sequence.costs import TIMED_STEPS, TIMING_PROMPT
from backend.sequence.request_cost import estimate_cost_with
from backend.served.calls import generate, tokenize, user_messages
from backend.served.evidence import MIN_TOP_LOGPROBS
from backend.served.model import ServedTextModel

if TYPE_CHECKING:
    from backend.engine import Engine


def time_served_pass(lm: ServedTextModel, batch: int) -> float:
    """Seconds per decoding step of one engine request for TIMED_STEPS tokens over `batch` sampled sequences."""
    started = time.perf_counter()
    generate(lm.client, user_messages(TIMING_PROMPT), n=batch, max_tokens=TIMED_STEPS, temperature=1.0, seed=0,
             top_logprobs=MIN_TOP_LOGPROBS)
    return (time.perf_counter() - started) / TIMED_STEPS


def answer_tokens(lm: ServedTextModel, answer: str) -> int:
    """The given answer's length in the served model's tokens (vLLM's /tokenize, without special tokens)."""
    return len(tokenize(lm.client, {"prompt": answer}))


def estimate_served_cost(engine: Engine, request: SequenceRequest) -> list[MethodCost]:
    """estimate_request_cost for a served text model: the engine's tokenizer, engine passes timed by
    time_served_pass (the embedding and NLI models timed in-process as always)."""
    return estimate_cost_with(engine, request, answer_tokens, time_served_pass)
