"""Shifting Attention to Relevance (SAR): Duan et al., "Shifting Attention to Relevance: Towards the Predictive
Uncertainty Quantification of Free-Form Large Language Models" (ACL 2024).

Token level: a token's relevance is how much the meaning of prompt + answer changes when it is removed,
R(z_i) = 1 - g(x + z, x + z without z_i), with g a sentence similarity in [0, 1]; TokenSAR is the surprisal of the
answer with each token's -log p weighted by its normalised relevance. Sentence level: an answer's probability is
raised by the probability of the other sampled answers that agree with it, E(s_j) = -log(p(s_j) + R_S(s_j) / t),
R_S(s_j) = sum_{k != j} g(s_j, s_k) p(s_k); SentenceSAR is the mean over the K answers. SAR uses both: each
answer's probability is exp(-TokenSAR(s_j)). t = 0.001 as in the paper and in lm-polygraph.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

DEFAULT_SAR_TEMPERATURE = 0.001


def token_relevance(similarity_without: Sequence[float], special: Sequence[bool]) -> tuple[list[float], list[float]]:
    """Relevance 1 - g, clipped to [0, 1], with special tokens (end of turn) at 0, and the relevances normalised to
    sum to 1 (all zeros when no token is relevant). Inputs and outputs have one entry per answer token."""
    if len(similarity_without) != len(special):
        raise ValueError(f"{len(similarity_without)} similarities but {len(special)} special flags")
    relevance = [0.0 if is_special or sim >= 1.0 else (1.0 if sim <= 0.0 else 1.0 - sim)
                 for sim, is_special in zip(similarity_without, special)]
    total = sum(relevance)
    weights = [r / total for r in relevance] if total > 0 else [0.0] * len(relevance)
    return relevance, weights


def token_sar(logprobs: Sequence[float], weights: Sequence[float]) -> float:
    """sum_i -log p(z_i) * weight_i in nats: surprisal with attention shifted to the relevant tokens. In [0, inf)."""
    if len(logprobs) != len(weights):
        raise ValueError(f"{len(logprobs)} log-probabilities but {len(weights)} weights")
    value = 0.0
    for lp, w in zip(logprobs, weights):
        value -= lp * w
    return value


def sentence_sar(sample_probs: Sequence[float], similarity: np.ndarray, *,
                 temperature: float = DEFAULT_SAR_TEMPERATURE) -> tuple[float, list[float]]:
    """SentenceSAR over K answers: (mean_j E(s_j), [E(s_j)]) in nats, lower when agreeing answers are likely.

    sample_probs: (K,) p(s_j | x). similarity: (K, K) g(s_j, s_k) in [0, 1]; its diagonal is ignored.
    """
    probs = [float(p) for p in sample_probs]
    g = np.asarray(similarity, dtype=np.float64)
    if g.shape != (len(probs), len(probs)):
        raise ValueError(f"similarity must be {len(probs)} x {len(probs)}, got {g.shape}")
    if not temperature > 0:
        raise ValueError("the SAR temperature t must be > 0")
    per_answer = []
    for j, row in enumerate(g.tolist()):
        others = 0.0
        for k, p in enumerate(probs):
            if k != j:
                others += row[k] * p
        per_answer.append(-math.log(others / temperature + probs[j]))
    return sum(per_answer) / len(per_answer), per_answer


def sar(token_sar_values: Sequence[float], similarity: np.ndarray, *,
        temperature: float = DEFAULT_SAR_TEMPERATURE) -> tuple[float, list[float]]:
    """SAR: SentenceSAR with each answer's probability replaced by exp(-TokenSAR(s_j))."""
    return sentence_sar([math.exp(-value) for value in token_sar_values], similarity, temperature=temperature)
