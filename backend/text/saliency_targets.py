"""What a saliency map explains, and how its rows are scaled for display.

A target is a number computed from the next-token distribution at an answer position.

Each target maps log-probabilities (B, N, V) (natural log, softmax of logits / temperature over the whole
vocabulary) at N answer positions to (B, N) values. The entropy target asks which input tokens drive the model's
uncertainty at that step; the contrast target asks why this token and not that one (Yin & Neubig, "Interpreting
Language Models with Contrastive Explanations", EMNLP 2022).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from backend.analyses.text_saliency import l1_divisor, max_abs_divisor, no_divisor
from backend.registry import Registry
from backend.schemas.text_saliency import SaliencyTargetInfo

TargetFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class SaliencyTarget:
    """A registry entry. value(logprobs (B, N, V), chosen (N,), alternative (N,)) -> (B, N).

    higher_is: which way a larger value points ("confident" or "uncertain"); a positive saliency score means the
    input token pushes the value up. needs_alternative: whether an alternative token is compared.
    """

    name: str
    label: str
    description: str
    unit: str
    higher_is: str
    needs_alternative: bool
    value: TargetFn

    def info(self) -> SaliencyTargetInfo:
        """The public view the UI builds its controls from."""
        return SaliencyTargetInfo(name=self.name, label=self.label, description=self.description, unit=self.unit,
                                  higher_is=self.higher_is, needs_alternative=self.needs_alternative)


def _pick(logprobs: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """(B, N): logprobs[b, n, ids[n]]."""
    return logprobs.gather(-1, ids.to(logprobs.device)[None, :, None].expand(logprobs.shape[0], -1, 1))[..., 0]


def chosen_logprob(logprobs: torch.Tensor, chosen: torch.Tensor, alternative: torch.Tensor) -> torch.Tensor:
    """log p(chosen token), nats, <= 0."""
    return _pick(logprobs, chosen)


def alternative_logprob(logprobs: torch.Tensor, chosen: torch.Tensor, alternative: torch.Tensor) -> torch.Tensor:
    """log p(alternative token), nats, <= 0."""
    return _pick(logprobs, alternative)


def contrast(logprobs: torch.Tensor, chosen: torch.Tensor, alternative: torch.Tensor) -> torch.Tensor:
    """log p(chosen) - log p(alternative), nats: > 0 when the chosen token is preferred."""
    return _pick(logprobs, chosen) - _pick(logprobs, alternative)


def entropy(logprobs: torch.Tensor, chosen: torch.Tensor, alternative: torch.Tensor) -> torch.Tensor:
    """Shannon entropy of the next-token distribution, nats, in [0, log V]."""
    return -(logprobs.exp() * logprobs).sum(dim=-1)


TARGETS: Registry[SaliencyTarget] = Registry("saliency target")
for _target in (
    SaliencyTarget("logprob", "Log-probability of the token", "log p of the token the model produced: which "
                   "inputs made it likely.", "nats", "confident", False, chosen_logprob),
    SaliencyTarget("alternative", "Log-probability of an alternative", "log p of another candidate at that step "
                   "(picked from the top-k; by default the most likely other token).", "nats", "confident", True,
                   alternative_logprob),
    SaliencyTarget("contrast", "Token vs. alternative", "log p(token) - log p(alternative): which inputs made the "
                   "model pick this token rather than that one.", "nats", "confident", True, contrast),
    SaliencyTarget("entropy", "Entropy (uncertainty)", "entropy of the next-token distribution: which inputs drive "
                   "the model's uncertainty at that step (positive = makes it less sure).", "nats", "uncertain",
                   False, entropy),
):
    TARGETS.register(_target)


@dataclass(frozen=True)
class Normalisation:
    """A way to scale a row of scores for display: divisor(row (T,)) -> the number it is divided by."""

    name: str
    description: str
    divisor: Callable[[torch.Tensor], float]


NORMALISATIONS: Registry[Normalisation] = Registry("normalisation")
for _normalisation in (
    Normalisation("max_abs", "each row divided by its largest absolute score, so the strongest input token is +-1",
                  max_abs_divisor),
    Normalisation("l1", "each row divided by the sum of its absolute scores, so |scores| are shares summing to 1",
                  l1_divisor),
    Normalisation("none", "raw scores, in the target's units (nats) for input x gradient, integrated gradients "
                  "and ablation", no_divisor),
):
    NORMALISATIONS.register(_normalisation)
