"""Scores of one generation from its token log-probabilities and next-token distributions.

Sequence probability and length-normalised log-likelihood as in Malinin & Gales, "Uncertainty Estimation in
Autoregressive Structured Prediction" (ICLR 2021). Mean kurtosis of the token distributions as in Park et al.,
"Visualizing Uncertainty in Translation Tasks: An Evaluation of LLM Performance and Confidence Metrics" (2025),
which names the measure but gives no formula; here each step's kurtosis is Fisher's excess kurtosis of the V
probabilities of the next-token distribution taken as a population (scipy.stats.kurtosis(p, fisher=True,
bias=True)): large when one token stands out of a flat tail, that is when the model is sure.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch

CHUNK_POSITIONS = 32  # positions per float64 pass, bounding the peak memory (as in token_stats)


def sequence_probability(logprobs: Sequence[float]) -> float:
    """p(answer | prompt) = exp(sum of token log-probabilities). logprobs: (T,) nats. In [0, 1]."""
    return math.exp(sum(logprobs))


def length_normalized_log_likelihood(logprobs: Sequence[float]) -> float:
    """Mean token log-probability (nats), in (-inf, 0]; its exp is the geometric-mean token probability."""
    return sum(logprobs) / len(logprobs)


def excess_kurtosis(logits: torch.Tensor, *, temperature: float = 1.0) -> torch.Tensor:
    """Fisher excess kurtosis of each row's softmax probabilities, treated as a population of V numbers.

    logits: (T, V). Returns (T,) float64: m4 / m2^2 - 3 with m_k the k-th central moment of the V probabilities
    (their mean is exactly 1/V). Lies in [-2, max_excess_kurtosis(V)]; a uniform row (m2 = 0) gives nan.
    """
    if logits.ndim != 2:
        raise ValueError(f"expected logits (T, V), got {tuple(logits.shape)}")
    parts = []
    for start in range(0, logits.shape[0], CHUNK_POSITIONS):
        probs = torch.softmax(logits[start:start + CHUNK_POSITIONS].to(torch.float64) / temperature, dim=-1)
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
