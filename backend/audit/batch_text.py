"""Greedy answers and their token statistics for a batch of questions: one generate call and one forward pass.

The same numbers as backend.text_generation.analyze_text (greedy, temperature 1, the model's chat template when it
has one) computed for B questions at once: rows are left-padded, the attention mask hides the padding and position
ids count only real tokens, so each row sees exactly what it would see alone (up to floating-point summation order).
An answer's tokens run up to and including the first end-of-sequence token, as in analyze_text.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from backend.models.text_loader import LoadedTextModel
from backend.text_generation import build_model_input, check_length, eos_ids


@dataclass(frozen=True)
class AnsweredQuestion:
    """One question's greedy answer: its text, ids, and per-token log-probability and entropy (nats), (T,) each."""

    answer: str
    answer_ids: list[int]
    logprobs: list[float]
    entropies: list[float]


def _pad_id(lm: LoadedTextModel) -> int:
    return lm.tokenizer.pad_token_id if lm.tokenizer.pad_token_id is not None else next(iter(eos_ids(lm)), 0)


def left_pad(rows: list[list[int]], pad_id: int, device: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """ids (B, L), attention mask (B, L) and position ids (B, L) for rows left-padded to the longest."""
    width = max(len(r) for r in rows)
    ids = torch.tensor([[pad_id] * (width - len(r)) + r for r in rows], device=device)
    mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows], device=device)
    positions = (mask.cumsum(dim=1) - 1).clamp(min=0)
    return ids, mask, positions


def cut_at_eos(new_ids: list[int], stop: set[int]) -> list[int]:
    """The ids up to and including the first stop id (all of them when none occurs)."""
    for i, token in enumerate(new_ids):
        if token in stop:
            return new_ids[:i + 1]
    return new_ids


def generate_batch(lm: LoadedTextModel, inputs: list[list[int]], max_new_tokens: int) -> list[list[int]]:
    """Greedy answer ids for B inputs in one generate call. The caller holds the model's lock."""
    ids, mask, _ = left_pad(inputs, _pad_id(lm), lm.device)
    stop = eos_ids(lm)
    with torch.inference_mode():
        out = lm.model.generate(ids, attention_mask=mask, max_new_tokens=max_new_tokens, do_sample=False,
                                temperature=None, top_p=None, top_k=None, eos_token_id=sorted(stop) or None,
                                pad_token_id=_pad_id(lm))
    return [cut_at_eos(row[ids.shape[1]:].tolist(), stop) for row in out]


def score_batch(lm: LoadedTextModel, inputs: list[list[int]], answers: list[list[int]]) -> list[tuple[list[float],
                                                                                                       list[float]]]:
    """(log-probabilities, entropies) in nats of each answer's tokens given its input, from one forward pass over
    the B left-padded sequences; softmax at temperature 1 over the full vocabulary, in float64."""
    rows = [i + a for i, a in zip(inputs, answers)]
    ids, mask, positions = left_pad(rows, _pad_id(lm), lm.device)
    with torch.inference_mode():
        logits = lm.model(input_ids=ids, attention_mask=mask, position_ids=positions).logits
    width = ids.shape[1]
    results = []
    for row, (prompt, answer) in enumerate(zip(inputs, answers)):
        if not answer:
            results.append(([], []))
            continue
        start = width - len(answer)
        logp = torch.log_softmax(logits[row, start - 1:width - 1].double(), dim=-1)
        chosen = logp.gather(1, ids[row, start:].unsqueeze(1)).squeeze(1)
        entropy = -(logp.exp() * logp).sum(dim=-1)
        results.append((chosen.tolist(), entropy.tolist()))
    return results


def answer_batch(lm: LoadedTextModel, questions: list[str], max_new_tokens: int) -> list[AnsweredQuestion]:
    """Greedy answers to B questions with their token statistics. The caller holds the model's lock."""
    inputs = []
    for question in questions:
        _text, ids, _used = build_model_input(lm, question, None)
        check_length(lm, len(ids), max_new_tokens)
        inputs.append(ids)
    answers = generate_batch(lm, inputs, max_new_tokens)
    scored = score_batch(lm, inputs, answers)
    return [AnsweredQuestion(answer=lm.tokenizer.decode(a, skip_special_tokens=True).strip(), answer_ids=a,
                             logprobs=lp, entropies=ent) for a, (lp, ent) in zip(answers, scored)]
