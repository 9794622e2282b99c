"""LUQ: how strongly the K sampled answers support each claim of the analysed answer (Zhang et al., LUQ: Long-text
Uncertainty Quantification for LLMs, EMNLP 2024). Pure: matrices in, numbers out.

With an NLI model a sample's support of a claim is P(entail) / (P(entail) + P(contradict)) with the sample as
premise and the claim as hypothesis (LUQ's formula); with the embedding model it is the claim rule's affinity
(backend.analyses.meaning_graph.claim_affinity) of the claim to the sample's closest sentence. A claim's support is
the mean over the K samples; LUQ's answer-level uncertainty is 1 - the mean support over the claims.
"""
from __future__ import annotations

import math

from typing import Sequence

import numpy as np


def nli_support(entail: np.ndarray, contradict: np.ndarray) -> np.ndarray:
    """(claims, K) support in [0, 1] from NLI probabilities of sample -> claim entailment and contradiction, each
    (claims, K): entail / (entail + contradict), 0.5 where both are 0."""
    entail, contradict = np.asarray(entail, dtype=np.float64), np.asarray(contradict, dtype=np.float64)
    total = entail + contradict
    return np.where(total > 0, entail / np.where(total > 0, total, 1.0), 0.5)


def claim_support(support: np.ndarray) -> list[float]:
    """Each claim's LUQ support (claims,): the mean of its row of the (claims, K) support matrix."""
    return [sum(row) / len(row) if row else math.nan for row in np.asarray(support, dtype=np.float64).tolist()]


def supported_by(support: np.ndarray, threshold: float) -> list[int]:
    """How many of the K samples support each claim (claims,): support at least threshold."""
    return [int((row >= threshold).sum()) for row in np.asarray(support, dtype=np.float64)]


def luq(claim_supports: Sequence[float]) -> float:
    """LUQ's uncertainty of the answer: 1 - the mean of its claims' supports, in [0, 1]."""
    if not claim_supports:
        raise ValueError("the answer has no claims")
    return 1.0 - sum(claim_supports) / len(claim_supports)
