"""What a SequenceRequest will cost on a served text model (the operations table's served pipeline of
estimate_sequence_cost): the same passes per piece of evidence as in-process (backend.sequence.costs), with an
engine pass timed as one short request: a request for TIMED_STEPS new tokens (n = batch sequences), its seconds
divided by the steps (the round trip and the prefill included, so it errs high), timed once per batch size and
kept by the pool like an in-process pass."""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

from backend.schemas.sequence import MethodCost, SequenceRequest
from backend.sequence.costs import TIMED_STEPS, TIMING_PROMPT, estimate_costs, time_embedding_text, time_nli_pair
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
    """estimate_request_cost for a served text model: the methods it can run (those 'all' leaves out cost
    nothing), engine passes timed by time_served_pass, the embedding and NLI models timed in-process."""
    models = engine.sequence_models(request)
    lm, embedder, nli, pool = models.lm, models.embedder, models.nli, engine.pool
    answer = request.text.answer
    new_tokens = answer_tokens(lm, answer) if answer is not None else request.text.max_new_tokens
    return estimate_costs(
        engine.runnable_methods(request)[0], k=request.samples, new_tokens=new_tokens,
        given_answer=answer is not None, meaning_kind=models.meaning.kind if models.meaning else "",
        lm_pass_seconds=lambda batch: pool.timed(lm.spec.id, batch, lambda: time_served_pass(lm, batch)),
        embedding_seconds=pool.timed(embedder.spec.id, 1, lambda: time_embedding_text(embedder)) if embedder else None,
        nli_seconds=pool.timed(nli.spec.id, 1, lambda: time_nli_pair(nli)) if nli else None)
