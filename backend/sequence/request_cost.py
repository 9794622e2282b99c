"""What one SequenceRequest will cost on the engine's models: passes per piece of evidence (backend.sequence.costs),
and seconds from passes timed on these models, each model and batch size timed once and kept by the pool."""
from __future__ import annotations

from typing import TYPE_CHECKING

from backend.schemas.sequence import MethodCost, SequenceRequest
from backend.sequence.costs import estimate_costs, time_embedding_text, time_lm_pass, time_nli_pair
from backend.sequence.pipeline import selected_methods

if TYPE_CHECKING:
    from backend.engine import Engine


def estimate_request_cost(engine: Engine, request: SequenceRequest) -> list[MethodCost]:
    """The cost of each of the request's methods: new tokens are the given answer's, else max_new_tokens; the
    models the methods need are loaded (and timed on first use) through the engine's pool."""
    models = engine.sequence_models(request)
    lm, embedder, nli, pool = models.lm, models.embedder, models.nli, engine.pool
    answer = request.text.answer
    new_tokens = (len(lm.tokenizer(answer, add_special_tokens=False)["input_ids"]) if answer is not None
                  else request.text.max_new_tokens)
    return estimate_costs(
        selected_methods(request), k=request.samples, new_tokens=new_tokens, given_answer=answer is not None,
        meaning_kind=models.meaning.kind if models.meaning else "",
        lm_pass_seconds=lambda batch: pool.timed(lm.spec.id, batch, lambda: time_lm_pass(lm, batch)),
        embedding_seconds=pool.timed(embedder.spec.id, 1, lambda: time_embedding_text(embedder)) if embedder else None,
        nli_seconds=pool.timed(nli.spec.id, 1, lambda: time_nli_pair(nli)) if nli else None)
