"""K sampled answers from one batched generate call, with each token's log-probability from the model's logits.

The K answers share the prompt, so they are drawn with num_return_sequences=K: one prefill and at most
max_new_tokens batched decoding steps, instead of K separate generate calls. Sampling uses the full distribution
softmax(logits / temperature) (no top-k or top-p), and each sampled token's log-probability is read from that same
distribution, computed in float64 from the raw logits generate returns. A prompt longer than
SINGLE_PASS_TOKENS is read once, in chunks, and its key-value cache is shared by the K rows (instead of K
full-width prefills).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from backend.budget import claim
from backend.models.text_loader import LoadedTextModel
from backend.text.generation import eos_ids, pad_id
from backend.text.passes import SINGLE_PASS_TOKENS, budget_criteria, prefill


@dataclass(frozen=True)
class Sample:
    """One sampled answer: its new ids (up to and including the first end token), their log-probabilities (nats),
    and why it stopped."""

    ids: list[int]
    token_logprobs: list[float]
    stop_reason: str


def sample_answers(lm: LoadedTextModel, input_ids: list[int], *, k: int, temperature: float, max_new_tokens: int,
                   seed: int) -> list[Sample]:
    """K answers to input_ids sampled at `temperature` in one generate call, seeded for reproducibility.

    The caller holds the model's lock. Returns K samples in generation order.
    """
    if k < 1:
        raise ValueError("at least one sample is needed")
    claim(len(input_ids) + max_new_tokens, k, f"{k} sampled answers")
    torch.manual_seed(seed)
    prompt = torch.tensor([input_ids], device=lm.device)
    stop_ids = eos_ids(lm)
    shared = dict(do_sample=True, temperature=temperature, top_p=1.0, top_k=0, max_new_tokens=max_new_tokens,
                  eos_token_id=sorted(stop_ids) or None, pad_token_id=pad_id(lm), output_logits=True,
                  return_dict_in_generate=True, stopping_criteria=budget_criteria(len(input_ids), max_new_tokens))
    with torch.inference_mode():
        if len(input_ids) <= SINGLE_PASS_TOKENS:
            out = lm.model.generate(prompt, attention_mask=torch.ones_like(prompt), num_return_sequences=k, **shared)
        else:
            cache = prefill(lm, input_ids)
            cache.batch_repeat_interleave(k)
            prompts = prompt.expand(k, -1)
            out = lm.model.generate(prompts, attention_mask=torch.ones_like(prompts), past_key_values=cache,
                                    **shared)
    new_ids = out.sequences[:, len(input_ids):]
    chosen_logprobs = torch.stack([
        torch.log_softmax(step_logits.to(torch.float64) / temperature, dim=-1)
        .gather(1, new_ids[:, step:step + 1]).squeeze(1)
        for step, step_logits in enumerate(out.logits)], dim=1).cpu()
    return [_trim(new_ids[row].tolist(), chosen_logprobs[row].tolist(), stop_ids) for row in range(k)]


def _trim(ids: list[int], logprobs: list[float], stop_ids: set[int]) -> Sample:
    """Cut a padded row after its first end token."""
    for position, token in enumerate(ids):
        if token in stop_ids:
            return Sample(ids[:position + 1], logprobs[:position + 1], "eos")
    return Sample(ids, logprobs, "max_new_tokens")
