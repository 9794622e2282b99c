"""Kernel language entropy and CoCoA: two scores of K sampled answers that read their semantic similarity.

- Kernel language entropy, KLE-heat (Nikitin et al., "Kernel Language Entropy: Fine-grained Uncertainty
  Quantification for LLMs from Semantic Similarities", NeurIPS 2024): over the graph W (K x K, symmetric, entries in
  [0, 1]) of how much the answers agree, the heat kernel exp(-t L) of its Laplacian L = D - W is made a density
  matrix rho (rows and columns scaled to a unit diagonal, then divided by K: unit trace, as the authors' code and
  lm-polygraph do), and KLE = -tr(rho ln rho) = -sum_i lambda_i ln lambda_i over rho's eigenvalues, in nats, in
  [0, ln K]: 0 when all answers coincide in meaning as t grows, ln K when none relate.
- CoCoA (Vashurin et al., "CoCoA: A Minimum Bayes Risk Framework Bridging Confidence and Consistency for
  Uncertainty Quantification in LLMs", NeurIPS 2025): the answer's own uncertainty u (MSP: -ln p(answer), nats)
  times its mean dissimilarity to the K samples, (1/K) sum_i (1 - s(answer, sample_i)).
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from backend.analyses.meaning_graph import check_affinity


def graph_laplacian(affinity: np.ndarray) -> np.ndarray:
    """L = D - W (K x K) with D = diag(W 1); W's diagonal cancels, so only the agreement between answers counts."""
    w = check_affinity(affinity)
    return np.diag(w.sum(axis=1)) - w


def heat_kernel(affinity: np.ndarray, t: float) -> np.ndarray:
    """exp(-t L) (K x K, symmetric positive definite) from the eigendecomposition of the symmetric Laplacian L."""
    if t <= 0:
        raise ValueError(f"the heat-kernel time t must be positive, got {t}")
    values, vectors = np.linalg.eigh(graph_laplacian(affinity))
    return (vectors * np.exp(-t * values)) @ vectors.T


def unit_trace(kernel: np.ndarray) -> np.ndarray:
    """rho_ij = K_ij / sqrt(K_ii K_jj) / K: the kernel with a unit diagonal, divided by K (trace 1). (K, K)"""
    k = np.asarray(kernel, dtype=np.float64)
    diagonal = np.sqrt(np.diag(k))
    if np.any(diagonal <= 0):
        raise ValueError("the kernel has a non-positive diagonal entry")
    return k / np.outer(diagonal, diagonal) / k.shape[0]


def von_neumann_entropy(density: np.ndarray) -> tuple[float, np.ndarray]:
    """(-sum_i lambda_i ln lambda_i in nats, the eigenvalues (K,) descending) of a symmetric unit-trace density
    matrix; eigenvalues at or below 0 (rounding) count as 0."""
    values = np.linalg.eigvalsh(np.asarray(density, dtype=np.float64))[::-1]
    positive = values[values > 0]
    return float(-(positive * np.log(positive)).sum()), values


def kernel_language_entropy(affinity: np.ndarray, t: float) -> tuple[float, np.ndarray, np.ndarray]:
    """KLE-heat: (VNE of the unit-trace heat kernel in nats, in [0, ln K]; that density matrix rho (K, K); its
    eigenvalues (K,) descending). affinity: W (K x K), symmetric, in [0, 1]; t > 0: the heat-kernel time."""
    density = unit_trace(heat_kernel(affinity, t))
    entropy, eigenvalues = von_neumann_entropy(density)
    return entropy, density, eigenvalues


def mean_dissimilarity(similarities: Sequence[float]) -> float:
    """(1/K) sum_i (1 - s_i) of the answer's similarities (K,) in [0, 1] to the K samples; in [0, 1]."""
    values = [float(v) for v in similarities]
    if not values:
        raise ValueError("no samples to compare the answer with")
    if min(values) < 0 or max(values) > 1 + 1e-9:
        raise ValueError("the answer's similarities to the samples must lie in [0, 1]")
    return sum(1.0 - v for v in values) / len(values)


def cocoa(uncertainty: float, similarities: Sequence[float]) -> float:
    """CoCoA = u * (1/K) sum_i (1 - s_i): the answer's uncertainty u (>= 0, e.g. -ln p(answer) in nats) times its
    mean dissimilarity to the K samples; in [0, u]."""
    return cocoa_of(uncertainty, mean_dissimilarity(similarities))


def cocoa_of(uncertainty: float, dissimilarity: float) -> float:
    """CoCoA from the answer's uncertainty u (>= 0) and its mean dissimilarity to the samples (mean_dissimilarity)."""
    if not uncertainty >= 0 or math.isinf(uncertainty):
        raise ValueError(f"the answer's uncertainty must be finite and >= 0, got {uncertainty}")
    return uncertainty * dissimilarity
