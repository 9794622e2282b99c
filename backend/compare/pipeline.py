"""Two sides on one prompt: each answers, then each side's model scores the other's answer (how sure is B of what
A said), with the per-token differences in log-probability. Runs on any text model, in-process or served: every
step is an engine.analyze_text call."""
from __future__ import annotations

import time
from typing import Optional

from backend.compare.alignment import alignment_kind, text_logprob, token_differences
from backend.schemas.compare import ComparedSide, TextComparison, TextComparisonRequest
from backend.schemas.text import TextAnalysis, TextRequest


def cross_request(scorer: TextRequest, answer: TextAnalysis) -> Optional[TextRequest]:
    """The request in which `scorer`'s model and settings score `answer`'s text (temperature and chat template
    included), or None when the answer has no text (it stopped at once)."""
    if not answer.generated_text:
        return None
    return scorer.model_copy(update={"answer": answer.generated_text})


def compared_side(analysis: TextAnalysis, scored_by_other: Optional[TextAnalysis]) -> ComparedSide:
    """One side's view: its analysis, the other's scoring of its answer and the differences token by token."""
    other_tokens = scored_by_other.tokens if scored_by_other else None
    return ComparedSide(analysis=analysis, scored_by_other=scored_by_other,
                        alignment=alignment_kind(analysis.tokens, other_tokens),
                        differences=token_differences(analysis.tokens, other_tokens),
                        own_logprob=text_logprob(analysis.tokens),
                        other_logprob=text_logprob(other_tokens) if other_tokens else None)


def compare_text(engine, request: TextComparisonRequest) -> TextComparison:
    """Four text analyses through the engine: A answers, B answers, B scores A's answer, A scores B's."""
    started = time.perf_counter()
    first, second = engine.analyze_text(request.first), engine.analyze_text(request.second)
    scored = []
    for scorer, answer in ((request.second, first), (request.first, second)):
        cross = cross_request(scorer, answer)
        scored.append(engine.analyze_text(cross) if cross else None)
    return TextComparison(first=compared_side(first, scored[0]), second=compared_side(second, scored[1]),
                          seconds=time.perf_counter() - started)
