"""Greedy answers and their token statistics for a batch of questions, from one generate call.

The same numbers as backend.text.generation.analyze_text (greedy, temperature 1, the model's chat template when it
has one) computed for B questions at once: rows are left-padded and the attention mask hides the padding, so each
row sees what it would see alone. analyze_text scores its answer in a second, teacher-forced pass; here the
statistics come from the logits generate computed while choosing each token (with its key-value cache), which
equal that pass's up to floating-point summation order (tested to 1e-4 nats) and halve the model's work of a
dataset audit. An answer's tokens run up to and including the first end-of-sequence token, as in analyze_text.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch

from backend.analyses.token_stats import token_stats
from backend.models.text_loader import LoadedTextModel
from backend.text.generation import build_model_input, check_length, eos_ids, pad_id
from backend.text.passes import budget_criteria


@dataclass(frozen=True)
class AnsweredQuestion:
    """One question's greedy answer: its text, ids, and per-token log-probability and entropy (nats), (T,) each.
    entropy_bounds: [lower, upper] per token (T, 2) where the entropies are estimates (a served model's top-k),
    None where they are exact."""

    answer: str
    answer_ids: list[int]
    logprobs: list[float]
    entropies: list[float]
    entropy_bounds: Optional[list[tuple[float, float]]] = None


def left_pad(rows: list[list[int]], pad: int, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    """ids (B, L) and attention mask (B, L) for rows left-padded with `pad` to the longest (generate derives each
    row's position ids from the mask, so they count real tokens only)."""
    width = max(len(r) for r in rows)
    ids = torch.tensor([[pad] * (width - len(r)) + r for r in rows], device=device)
    mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows], device=device)
    return ids, mask


def cut_at_eos(new_ids: list[int], stop: set[int]) -> list[int]:
    """The ids up to and including the first stop id (all of them when none occurs)."""
    for i, token in enumerate(new_ids):
        if token in stop:
            return new_ids[:i + 1]
    return new_ids


def answer_statistics(step_logits: list[torch.Tensor], answer_ids: list[int], row: int) -> tuple[list[float],
                                                                                                list[float]]:
    """(log-probabilities, entropies) in nats of one row's answer tokens (token_stats at temperature 1: the full
    vocabulary, in float64) from the raw logits generate returned at each step (step_logits[t]: (B, V))."""
    if not answer_ids:
        return [], []
    stats = token_stats(torch.stack([step_logits[t][row] for t in range(len(answer_ids))]),
                        torch.tensor(answer_ids), top_k=1)
    return stats.logprob.tolist(), stats.entropy.tolist()


def generate_batch(lm: LoadedTextModel, inputs: list[list[int]], max_new_tokens: int
                   ) -> list[tuple[list[int], list[float], list[float]]]:
    """(answer ids, log-probabilities, entropies) of the greedy answers to B inputs from one generate call.

    The statistics are read from the raw logits of the decoding steps that chose the tokens, so no second
    forward pass is needed. The caller holds the model's lock."""
    ids, mask = left_pad(inputs, pad_id(lm), lm.device)
    stop = eos_ids(lm)
    with torch.inference_mode():
        out = lm.model.generate(ids, attention_mask=mask, max_new_tokens=max_new_tokens, do_sample=False,
                                temperature=None, top_p=None, top_k=None, eos_token_id=sorted(stop) or None,
                                pad_token_id=pad_id(lm), output_logits=True, return_dict_in_generate=True,
                                stopping_criteria=budget_criteria(ids.shape[1], max_new_tokens))
    answers = [cut_at_eos(row[ids.shape[1]:].tolist(), stop) for row in out.sequences]
    return [(answer, *answer_statistics(out.logits, answer, row)) for row, answer in enumerate(answers)]


def answer_batch(lm: LoadedTextModel, questions: list[str], max_new_tokens: int) -> list[AnsweredQuestion]:
    """Greedy answers to B questions with their token statistics. The caller holds the model's lock."""
    inputs = []
    for question in questions:
        _text, ids, _used = build_model_input(lm, question, None)
        check_length(lm, len(ids), max_new_tokens)
        inputs.append(ids)
    return [AnsweredQuestion(answer=lm.tokenizer.decode(a, skip_special_tokens=True).strip(), answer_ids=a,
                             logprobs=lp, entropies=ent) for a, lp, ent in generate_batch(lm, inputs, max_new_tokens)]
