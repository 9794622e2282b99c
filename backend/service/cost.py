"""What a request will cost, estimated from its fields before any model runs, for admission.

The unit is the token-pass: one pass of the model over one token. Images count IMAGE_TOKENS per image pass (a
224 x 224 input costs the default image model about as much as that many tokens cost the default text model).
The estimate needs no tokenizer: a prompt counts CHARS_PER_TOKEN characters a token plus the chat template's
TEMPLATE_TOKENS, which is close for English and errs high for most other text; the pipelines claim the exact
count from the request's budget (backend.budget) once the tokenizer has spoken.
"""
from __future__ import annotations

import math
from typing import Any, Optional

from backend.decisions.relative_confidence import COMPARISONS, ORDERS
from backend.schemas import TextRequest
from backend.schemas.audit import AuditRequest
from backend.schemas.compare import TextComparisonRequest
from backend.schemas.image import ImageRequest, SaliencyRequest, UncertaintyRequest
from backend.schemas.relative_confidence import RELATIVE_CONFIDENCE
from backend.schemas.sequence import SequenceRequest
from backend.schemas.text_attention import TextAttentionRequest
from backend.schemas.text_saliency import TextSaliencyRequest

CHARS_PER_TOKEN = 4
TEMPLATE_TOKENS = 32
IMAGE_TOKENS = 64
SEQUENCE_ASKING_PASSES = 2  # P(True) and verbalized confidence each read the answer once more
IMAGE_SALIENCY_PASSES = 64  # the most a default image saliency method runs (SmoothGrad / IG steps)


def text_tokens(request: TextRequest) -> int:
    """Estimated tokens of prompt + answer (given, or max_new_tokens to generate)."""
    prompt = len(request.prompt) // CHARS_PER_TOKEN + TEMPLATE_TOKENS
    answer = len(request.answer) // CHARS_PER_TOKEN + 1 if request.answer is not None else request.max_new_tokens
    return prompt + answer


def text_cost(request: TextRequest) -> int:
    """Token-passes of a text analysis: generate (one pass over the new tokens, one over the prompt) and score."""
    return text_tokens(request) * (1 if request.answer is not None else 2)


def sequence_cost(request: SequenceRequest) -> int:
    """The text analysis, plus K samples over prompt + answer and the asking methods' passes."""
    return text_cost(request.text) + text_tokens(request.text) * (request.samples + SEQUENCE_ASKING_PASSES)


def saliency_cost(request: TextSaliencyRequest) -> int:
    """A pass over the sequence per explained token (gradients batch them; occlusion and IG steps share one
    pass's worth per explained token at the default settings)."""
    explained = len(request.positions) if request.positions else len(request.ids) - request.answer_start
    return len(request.ids) * max(1, explained)


def audit_cost(request: AuditRequest) -> int:
    """One batch of questions: each a short prompt and max_new_tokens, times the samples of sampling methods, plus
    relative confidence's comparisons (each a prompt of two questions, read for one reply token)."""
    per_item = (TEMPLATE_TOKENS * 2 + request.max_new_tokens) * (1 + request.samples)
    if RELATIVE_CONFIDENCE in request.methods:
        per_item += math.ceil(COMPARISONS / 2) * ORDERS * TEMPLATE_TOKENS * 3
    return per_item * request.batch_size


def comparison_cost(request: TextComparisonRequest) -> int:
    """Both sides' analyses, then each side scoring the other's answer (at most its max_new_tokens)."""
    sides = (request.first, request.second)
    return sum(text_cost(side) for side in sides) + sum(text_tokens(side) for side in sides)


def request_cost(request: Any) -> Optional[int]:
    """Estimated token-passes of a request to a heavy route, or None for requests too small to count."""
    if isinstance(request, TextRequest):
        return text_cost(request)
    if isinstance(request, SequenceRequest):
        return sequence_cost(request)
    if isinstance(request, TextAttentionRequest):
        return len(request.ids)
    if isinstance(request, TextSaliencyRequest):
        return saliency_cost(request)
    if isinstance(request, UncertaintyRequest):
        return request.passes * IMAGE_TOKENS
    if isinstance(request, SaliencyRequest):
        return len(request.methods) * IMAGE_SALIENCY_PASSES * IMAGE_TOKENS
    if isinstance(request, ImageRequest):
        return IMAGE_TOKENS
    if isinstance(request, AuditRequest):
        return audit_cost(request)
    if isinstance(request, TextComparisonRequest):
        return comparison_cost(request)
    return None
