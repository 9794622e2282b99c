"""Scores of one generation from its token log-probabilities and next-token distributions.

Sequence probability, length-normalised log-likelihood and perplexity as in Malinin & Gales, "Uncertainty
Estimation in Autoregressive Structured Prediction" (ICLR 2021); mean token entropy as in Fomicheva et al.,
"Unsupervised Quality Estimation for Neural Machine Translation" (TACL 2020). Mean and geometric-mean token
probability, and the mean kurtosis of the token distributions, as in Park et al.,
"Visualizing Uncertainty in Translation Tasks: An Evaluation of LLM Performance and Confidence Metrics" (2025),
which names the kurtosis but gives no formula; here each step's kurtosis is Fisher's excess kurtosis of the V
probabilities of the next-token distribution taken as a population (scipy.stats.kurtosis(p, fisher=True,
bias=True)): large when one token stands out of a flat tail, that is when the model is sure.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

import torch

from backend.memory import float64_budget_bytes, rows_within

KURTOSIS_BYTES_PER_ENTRY = 32  # float64 at once: the scaled logits or their power, the probabilities, centred


def sequence_log_probability(logprobs: Sequence[float]) -> float:
    """log p(answer | prompt) = the sum of the token log-probabilities. logprobs: (T,) nats. In (-inf, 0]."""
    return sum(logprobs)


def sequence_probability(logprobs: Sequence[float]) -> float:
    """p(answer | prompt) = exp(sum of token log-probabilities). logprobs: (T,) nats. In [0, 1]."""
    return math.exp(sequence_log_probability(logprobs))


def length_normalized_log_likelihood(logprobs: Sequence[float]) -> float:
    """Mean token log-probability (nats), in (-inf, 0]; its exp is the geometric-mean token probability."""
    return sum(logprobs) / len(logprobs)


def mean_token_probability(logprobs: Sequence[float]) -> float:
    """Arithmetic mean of the token probabilities exp(logprobs). logprobs: (T,) nats, T >= 1. In [0, 1]."""
    return sum(math.exp(lp) for lp in logprobs) / len(logprobs)


def geometric_mean_probability(logprobs: Sequence[float]) -> float:
    """exp of the mean token log-probability: the per-token probability of the whole answer. In [0, 1]."""
    return math.exp(length_normalized_log_likelihood(logprobs))


def perplexity(logprobs: Sequence[float]) -> float:
    """exp of the mean surprisal -log p (nats), in [1, inf): 1 when every token had probability 1."""
    return math.exp(-length_normalized_log_likelihood(logprobs))


def mean_token_entropy(entropies: Sequence[float]) -> float:
    """Mean entropy (nats) of the T >= 1 next-token distributions, in [0, ln V]."""
    return sum(entropies) / len(entropies)


def max_token_entropy(entropies: Sequence[float]) -> float:
    """The largest next-token entropy (nats) of the T >= 1 steps, in [0, ln V]."""
    return max(entropies)


def excess_kurtosis(logits: torch.Tensor, *, temperature: float = 1.0,
                    budget_bytes: Optional[int] = None) -> torch.Tensor:
    """Fisher excess kurtosis of each row's softmax probabilities, treated as a population of V numbers.

    logits: (T, V). Returns (T,) float64: m4 / m2^2 - 3 with m_k the k-th central moment of the V probabilities
    (their mean is exactly 1/V). Lies in [-2, max_excess_kurtosis(V)]; a uniform row (m2 = 0) gives nan.
    budget_bytes: float64 bytes per pass (KURTOSIS_BYTES_PER_ENTRY per entry; None: the device's share of its
    free memory, backend.memory.float64_budget_bytes); rows are processed in chunks that fit it.
    """
    if logits.ndim != 2:
        raise ValueError(f"expected logits (T, V), got {tuple(logits.shape)}")
    budget = float64_budget_bytes(logits.device) if budget_bytes is None else budget_bytes
    rows = rows_within(budget, max(1, logits.shape[1]), logits.shape[0], KURTOSIS_BYTES_PER_ENTRY)
    parts = []
    for start in range(0, logits.shape[0], rows):
        probs = torch.softmax(logits[start:start + rows].to(torch.float64) / temperature, dim=-1)
        centred = probs - 1.0 / probs.shape[-1]
        m2 = centred.pow(2).mean(dim=-1)
        m4 = centred.pow(4).mean(dim=-1)
        parts.append((m4 / m2.pow(2) - 3.0).cpu())
    return torch.cat(parts) if parts else torch.empty(0, dtype=torch.float64)


def max_excess_kurtosis(vocab_size: int) -> float:
    """The largest excess kurtosis V numbers can have (one-hot: one value apart from the rest).

    For a population of size V the kurtosis m4 / m2^2 is at most (V^2 - 3V + 3) / (V - 1).
    """
    if vocab_size < 2:
        raise ValueError("a distribution needs at least 2 outcomes")
    return (vocab_size ** 2 - 3 * vocab_size + 3) / (vocab_size - 1) - 3.0
