"""Scores of K sampled answers: predictive entropy, semantic entropy and Semantic Volume.

Sample log-probabilities are in nats, at the temperature the answers were sampled with.
- Predictive entropy: the Monte-Carlo estimate -1/K sum_j log p(s_j | x) (Malinin & Gales, ICLR 2021).
- Semantic entropy (Kuhn, Gal & Farquhar, ICLR 2023; Farquhar et al., Nature 2024): entropy over meanings,
  -sum_C p(C) log p(C), with p(C) the normalised sum of its members' length-normalised probabilities (the
  reference implementation of Farquhar et al.).
- Semantic Volume (Li et al., "Semantic Volume: Quantifying and Detecting both External and Internal Uncertainty in
  LLMs", 2025): log det(V V^T + eps I) with V the K unit-length answer embeddings as rows.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

DEFAULT_VOLUME_EPSILON = 1e-3


def predictive_entropy(sample_logprobs: Sequence[float]) -> float:
    """-mean_j log p(s_j | x) in nats, from the K answers' total log-probabilities (K,). In [0, inf)."""
    if not len(sample_logprobs):
        raise ValueError("no sampled answers")
    return -float(sum(sample_logprobs)) / len(sample_logprobs)


def log_sum_exp(values: Sequence[float]) -> float:
    """log sum_i exp(values_i), shifted by the largest value (exact for a few values, no overflow)."""
    if len(values) == 1:
        return float(values[0])
    top = max(values)
    return top + math.log(sum([math.exp(v - top) for v in values]))


def sample_weights(mean_token_logprobs: Sequence[float]) -> list[float]:
    """Each answer's share of probability among the K samples: softmax of its mean token log-probability. (K,)"""
    top = max(mean_token_logprobs)
    shifted = [math.exp(v - top) for v in mean_token_logprobs]
    total = sum(shifted)
    return [v / total for v in shifted]


def cluster_masses(weights: Sequence[float], clusters: Sequence[Sequence[int]]) -> list[float]:
    """p(C) = sum of the member answers' weights, one value per cluster (weights sum to 1, so masses do)."""
    return [sum([weights[i] for i in members]) for members in clusters]


def semantic_entropy(masses: Sequence[float]) -> float:
    """-sum_C p(C) ln p(C) in nats over meaning clusters; 0 for one meaning, ln K for K equally likely ones."""
    return float(-sum(m * math.log(m) for m in masses if m > 0))


def discrete_semantic_entropy(clusters: Sequence[Sequence[int]]) -> float:
    """Semantic entropy with p(C) = |C| / K, ignoring the model's probabilities (Farquhar et al. 2024)."""
    total = sum(len(members) for members in clusters)
    return semantic_entropy([len(members) / total for members in clusters])


def monte_carlo_semantic_entropy(sample_logprobs: Sequence[float], clusters: Sequence[Sequence[int]]) -> float:
    """lm-polygraph's SemanticEntropy: -1/K sum_j log sum_{s in C(j)} p(s | x), unnormalised class probabilities
    from the answers' total log-probabilities."""
    total = sum(len(members) * log_sum_exp([sample_logprobs[i] for i in members]) for members in clusters)
    return -float(total) / sum(len(members) for members in clusters)


def unit_rows(embeddings: np.ndarray) -> np.ndarray:
    """Rows scaled to unit Euclidean length (K, d); a zero row is an error."""
    e = np.asarray(embeddings, dtype=np.float64)
    norms = np.linalg.norm(e, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("an embedding is all zeros and has no direction")
    return e / norms


def cosine_affinity(embeddings: np.ndarray) -> np.ndarray:
    """Cosine similarity of the K embeddings (K, d) with negative values set to 0 and ones on the diagonal:
    a symmetric (K, K) affinity in [0, 1]."""
    unit = unit_rows(embeddings)
    similarity = np.clip(unit @ unit.T, 0.0, 1.0)
    similarity = (similarity + similarity.T) / 2
    np.fill_diagonal(similarity, 1.0)
    return similarity


def semantic_volume(embeddings: np.ndarray, *, epsilon: float = DEFAULT_VOLUME_EPSILON) -> float:
    """log det(G + eps I) with G = V V^T the Gram matrix of the unit embeddings (K x K).

    G has ones on the diagonal, so by Hadamard's inequality the value is at most K ln(1 + eps) (answers pointing in
    orthogonal directions) and falls towards (K - 1) ln eps + ln(K + eps) as the answers coincide.
    """
    unit = unit_rows(embeddings)
    gram = unit @ unit.T
    sign, logdet = np.linalg.slogdet(gram + epsilon * np.eye(gram.shape[0]))
    if sign <= 0:
        raise ValueError("the regularised Gram matrix is not positive definite")
    return float(logdet)


def semantic_volume_normalized(volume: float, k: int, *, epsilon: float = DEFAULT_VOLUME_EPSILON) -> float:
    """exp(volume / K) / (1 + eps): the geometric mean of the Gram eigenvalues over its largest possible value;
    0 = all answers point the same way, 1 = mutually orthogonal."""
    return math.exp(volume / k) / (1.0 + epsilon)
