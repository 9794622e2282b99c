"""What one SequenceRequest will cost on the engine's models: passes per piece of evidence (backend.sequence.costs),
and seconds from passes timed on these models, each model and batch size timed once and kept by the pool.

estimate_cost_with holds the whole estimate; what differs by where the text model runs is passed in: how long the
given answer is in its tokens, and how one pass of it is timed (in-process here, an engine request in
backend.served.sequence_costs)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from backend.schemas.sequence import MethodCost, SequenceRequest
from backend.sequence.costs import estimate_costs, time_embedding_text, time_lm_pass, time_nli_pair

if TYPE_CHECKING:
    from backend.engine import Engine

AnswerTokens = Callable[[Any, str], int]  # (text model, given answer) -> its length in the model's tokens
TimePass = Callable[[Any, int], float]  # (text model, batch) -> seconds of one pass over `batch` sequences


def estimate_cost_with(engine: Engine, request: SequenceRequest, answer_tokens: AnswerTokens,
                       time_pass: TimePass) -> list[MethodCost]:
    """The cost of each method the request's text model can run (those 'all' leaves out cost nothing): new tokens
    are the given answer's, else max_new_tokens; the models the methods need are loaded (and timed on first use)
    through the engine's pool."""
    models = engine.sequence_models(request)
    lm, embedder, nli, pool = models.lm, models.embedder, models.nli, engine.pool
    answer = request.text.answer
    new_tokens = answer_tokens(lm, answer) if answer is not None else request.text.max_new_tokens
    return estimate_costs(
        engine.runnable_methods(request)[0], k=request.samples, new_tokens=new_tokens,
        sample_tokens=request.text.max_new_tokens,
        given_answer=answer is not None, meaning_kind=models.meaning.kind if models.meaning else "",
        lm_pass_seconds=lambda batch: pool.timed(lm.spec.id, batch, lambda: time_pass(lm, batch)),
        embedding_seconds=pool.timed(embedder.spec.id, 1, lambda: time_embedding_text(embedder)) if embedder else None,
        nli_seconds=pool.timed(nli.spec.id, 1, lambda: time_nli_pair(nli)) if nli else None)


def local_answer_tokens(lm: Any, answer: str) -> int:
    """The given answer's length in an in-process model's tokens (its tokenizer, without special tokens)."""
    return len(lm.tokenizer(answer, add_special_tokens=False)["input_ids"])


def estimate_request_cost(engine: Engine, request: SequenceRequest) -> list[MethodCost]:
    """estimate_cost_with on a model in UQ Lens's process: its tokenizer, its forward passes timed."""
    return estimate_cost_with(engine, request, local_answer_tokens, time_lm_pass)
