"""Uncertainty of a classifier's prediction: one distribution, and an ensemble of K stochastic passes.

Pure functions on tensors, computed in float64. Entropies and mutual information are in nats.

The split of an ensemble's predictive entropy into expected entropy (aleatoric) and mutual information
(epistemic) is the one of Houlsby et al., "Bayesian Active Learning for Classification and Preference Learning"
(2011) and Depeweg et al., "Decomposition of Uncertainty in Bayesian Deep Learning" (ICML 2018), applied to MC
dropout passes (Gal & Ghahramani, ICML 2016) or test-time augmentations (Ayhan & Berens, MIDL 2018).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from backend.analyses.token_stats import entropy_from_logprobs


@dataclass(frozen=True)
class DistributionStats:
    """One class distribution. probs: (C,) float64. entropy in nats, in [0, ln C]. margin = p1 - p2 in [0, 1].
    top_indices / top_probs: the k most likely classes, most likely first (ties by lower index)."""

    probs: torch.Tensor
    entropy: float
    margin: float
    top_indices: list[int]
    top_probs: list[float]


@dataclass(frozen=True)
class EnsembleStats:
    """K passes over C classes.

    mean: (C,) mean probability per class. std: (C,) population standard deviation over passes.
    predictive_entropy = H[mean], expected_entropy = mean_k H[p_k], mutual_information = their difference
    (>= 0 by concavity of entropy), all in nats. agreement: share of passes whose argmax equals argmax(mean).
    """

    mean: torch.Tensor
    std: torch.Tensor
    predictive_entropy: float
    expected_entropy: float
    mutual_information: float
    agreement: float


def distribution_stats(logits: torch.Tensor, *, temperature: float = 1.0, top_k: int = 5) -> DistributionStats:
    """Softmax of logits / temperature over all C classes, with its entropy, top-2 margin and top-k.

    logits: (C,) raw logits. temperature > 0. top_k is clipped to C.
    """
    if logits.ndim != 1 or logits.numel() == 0:
        raise ValueError(f"expected logits of shape (C,), got {tuple(logits.shape)}")
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    logprobs = torch.log_softmax(logits.to(torch.float64) / temperature, dim=-1)
    probs = logprobs.exp()
    order = sorted(range(probs.numel()), key=lambda i: (-float(probs[i]), i))
    top = order[:max(1, min(top_k, probs.numel()))]
    second = float(probs[order[1]]) if probs.numel() > 1 else 0.0
    return DistributionStats(probs=probs, entropy=float(entropy_from_logprobs(logprobs)),
                             margin=float(probs[order[0]]) - second, top_indices=top,
                             top_probs=[float(probs[i]) for i in top])


def ensemble_stats(probs: torch.Tensor) -> EnsembleStats:
    """Mean prediction and the entropy decomposition of K probability vectors.

    probs: (K, C) rows that each sum to 1 (K >= 1). Zero probabilities contribute 0 to entropies.
    """
    if probs.ndim != 2 or probs.shape[0] < 1 or probs.shape[1] < 1:
        raise ValueError(f"expected probabilities of shape (K, C), got {tuple(probs.shape)}")
    probs = probs.to(torch.float64)
    mean = probs.mean(dim=0)
    predictive = float(entropy_from_logprobs(mean.log()))
    expected = float(entropy_from_logprobs(probs.log()).mean())
    agreement = float((probs.argmax(dim=1) == mean.argmax()).to(torch.float64).mean())
    return EnsembleStats(mean=mean, std=probs.std(dim=0, correction=0), predictive_entropy=predictive,
                         expected_entropy=expected, mutual_information=max(predictive - expected, 0.0),
                         agreement=agreement)
