"""Asking a text model which of two questions it is more sure of (relative confidence), in-process or served.

An item's comparisons are its ceil(m / 2) pairs (backend.decisions.relative_confidence.partner_indices), each
asked in both orders, so 2 * ceil(m / 2) asking passes, each read from the first reply token alone:
- in-process: one forward pass over the item's prompts (left-padded into one batch, position ids counting real
  tokens only, so each row sees what it would see alone), the full next-token softmax at temperature 1, each
  letter's probability summed over its one-token spellings (backend.sequence.self_assessment.single_token_ids, as
  P(True) reads True / False); the prompt goes through the chat template when the model has one, as the audit's
  questions do (backend.text.generation.build_model_input);
- served: one chat request per prompt with max_tokens 1 and the top-20 log-probabilities of the first reply token
  (the request P(True) makes; the engine applies the chat template), asked one after the other so an item never has
  more than one request in flight (the audit's concurrency bounds the items in flight); a letter beyond the top-20
  is estimated at the most it can have (relative_confidence.letters_from_top).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Optional, Sequence

import torch

from backend.audit.batch_text import left_pad
from backend.decisions.relative_confidence import (A_WORDS, B_WORDS, comparison_prompt, debiased, letters_from_top,
                                                   partner_indices, preference)
from backend.errors import UserInputError
from backend.models.text_loader import LoadedTextModel
from backend.sequence.self_assessment import single_token_ids
from backend.served.calls import generate, user_messages
from backend.served.evidence import MAX_TOP_LOGPROBS
from backend.served.model import ServedTextModel
from backend.text.generation import build_model_input, check_length, pad_id

if TYPE_CHECKING:
    from backend.audit.runner import Plan
    from backend.engine import Engine
    from backend.schemas.audit import AuditRequest

Asker = Callable[[list[str]], list[Optional[float]]]  # prompts -> P(A) / (P(A) + P(B)) of each, None if unreadable


def letter_ids(lm: LoadedTextModel) -> tuple[list[int], list[int]]:
    """The one-token spellings of A and of B in the model's vocabulary; UserInputError when a letter has none (its
    probability could not be read from one step)."""
    a_ids, b_ids = single_token_ids(lm, A_WORDS), single_token_ids(lm, B_WORDS)
    if not a_ids or not b_ids:
        raise UserInputError(f"the tokenizer of {lm.spec.id} has no single token for A or B, so relative confidence "
                             f"cannot read its choice from the first reply token; leave relative_confidence out")
    return a_ids, b_ids


def first_token_probs(lm: LoadedTextModel, prompts: Sequence[str]) -> torch.Tensor:
    """Next-token probabilities (B, V), float64 at temperature 1, after each prompt as the model's input (chat
    template when it has one), from one left-padded forward pass. The caller holds the model's lock."""
    rows = []
    for prompt in prompts:
        _text, ids, _used = build_model_input(lm, prompt, None)
        check_length(lm, len(ids), 1)
        rows.append(ids)
    ids, mask = left_pad(rows, pad_id(lm), lm.device)
    positions = (mask.cumsum(dim=-1) - 1).clamp(min=0)
    with torch.inference_mode():
        logits = lm.model(input_ids=ids, attention_mask=mask, position_ids=positions).logits[:, -1]
    return torch.softmax(logits.to(torch.float64), dim=-1).cpu()


def ask_in_process(lm: LoadedTextModel, prompts: list[str]) -> list[Optional[float]]:
    """P(A) / (P(A) + P(B)) after each prompt, from the full distribution of its first reply token."""
    a_ids, b_ids = letter_ids(lm)
    probs = first_token_probs(lm, prompts)
    return [preference(float(row[a_ids].sum()), float(row[b_ids].sum())) for row in probs]


def top_preference(top: Sequence) -> Optional[float]:
    """P(A) / (P(A) + P(B)) from a first reply token's top-k alternatives (each with .text and .prob); None when
    neither letter is among them."""
    try:
        return preference(*letters_from_top([(alternative.text, alternative.prob) for alternative in top]))
    except ValueError:
        return None


def ask_served(lm: ServedTextModel, prompts: list[str]) -> list[Optional[float]]:
    """P(A) / (P(A) + P(B)) after each prompt, from the top-20 of the engine's first reply token (None when
    neither letter is among them or the reply is empty)."""
    readings: list[Optional[float]] = []
    for prompt in prompts:
        reply = generate(lm.client, user_messages(prompt), max_tokens=1, temperature=0.0,
                         top_logprobs=MAX_TOP_LOGPROBS)
        tokens = reply.samples[0].tokens
        readings.append(top_preference(tokens[0].top) if tokens else None)
    return readings


def asker_for(lm: LoadedTextModel | ServedTextModel) -> Asker:
    """How a model is asked: in-process (full distribution) or through its engine (top-20)."""
    if isinstance(lm, ServedTextModel):
        return lambda prompts: ask_served(lm, prompts)
    return lambda prompts: ask_in_process(lm, prompts)


def pair_prompts(questions: Sequence[str], index: int, partners: Sequence[int]) -> list[str]:
    """For each partner, the pair in both orders: [item as A, item as B, next partner ...] (2 P prompts)."""
    return [prompt for partner in partners for prompt in (comparison_prompt(questions[index], questions[partner]),
                                                          comparison_prompt(questions[partner], questions[index]))]


def item_comparisons(ask: Asker, questions: Sequence[str], index: int, seed: int,
                     total: Optional[int] = None) -> dict[str, float]:
    """Partner index (as a string) -> P(question `index` preferred), both orders averaged, for the item's partners
    among the first `total` questions (all of them by default); a pair with an unreadable order is left out."""
    partners = partner_indices(index, len(questions) if total is None else total, seed)
    readings = ask(pair_prompts(questions, index, partners))
    shares = {str(p): debiased(readings[2 * k], readings[2 * k + 1]) for k, p in enumerate(partners)}
    return {partner: share for partner, share in shares.items() if share is not None}


def audit_comparisons(engine: Engine, request: AuditRequest, plan: Plan, index: int) -> dict[str, float]:
    """The comparisons of the audit's item `index` against its partners among the plan's first plan.total questions,
    asked of the request's text model (under its pool lock when it is in the process)."""
    questions = [question.question for question in plan.dataset.qa]
    with engine.pool.using("text", request.model) as lm:
        return item_comparisons(asker_for(lm), questions, index, request.seed, plan.total)
