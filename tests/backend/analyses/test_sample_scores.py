"""Predictive entropy, semantic entropy and Semantic Volume: hand values and scipy / numpy references.

Formulas (K samples s_j with total log-probabilities l_j and mean token log-probabilities m_j, clusters C):
- predictive entropy = -1/K sum_j l_j, as lm-polygraph's MonteCarloSequenceEntropy.
- semantic entropy = -sum_C p(C) ln p(C), p(C) = sum_{j in C} softmax(m)_j (Farquhar et al.'s reference code).
  lm-polygraph's SemanticEntropy is the Monte-Carlo form -1/K sum_j ln sum_{i in C(j)} exp(l_i) with unnormalised
  class probabilities; UQ Lens reports it in the details as monte_carlo_lm_polygraph (tested below).
- Semantic Volume = ln det(V V^T + eps I), V the unit-length embeddings as rows (Li et al.).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from backend.analyses.sample_scores import (cluster_masses, cosine_affinity, discrete_semantic_entropy,
                                            monte_carlo_semantic_entropy, predictive_entropy, sample_weights,
                                            semantic_entropy, semantic_volume, semantic_volume_normalized)


def test_predictive_entropy_hand_value():
    assert predictive_entropy([-1.0, -2.0, -3.0]) == pytest.approx(2.0)


def test_sample_weights_are_the_softmax_of_mean_log_probabilities():
    weights = sample_weights([math.log(0.5), math.log(0.25), math.log(0.25)])
    assert weights == pytest.approx([0.5, 0.25, 0.25])
    assert sample_weights([-1000.0, -1000.0]) == pytest.approx([0.5, 0.5])


def test_k_identical_answers_have_semantic_entropy_zero():
    masses = cluster_masses(sample_weights([-0.3, -0.9, -2.0]), [[0, 1, 2]])
    assert masses == pytest.approx([1.0])
    assert semantic_entropy(masses) == pytest.approx(0.0, abs=1e-12)
    assert discrete_semantic_entropy([[0, 1, 2]]) == 0.0


def test_k_unrelated_equally_likely_answers_have_semantic_entropy_ln_k():
    masses = cluster_masses(sample_weights([-1.0] * 5), [[i] for i in range(5)])
    assert semantic_entropy(masses) == pytest.approx(math.log(5))
    assert discrete_semantic_entropy([[i] for i in range(5)]) == pytest.approx(math.log(5))


def test_semantic_entropy_hand_value_and_scipy_reference():
    # weights 0.5, 0.25, 0.25 with answers 1 and 2 sharing a meaning: masses 0.5, 0.5 -> ln 2
    weights = sample_weights([math.log(0.5), math.log(0.25), math.log(0.25)])
    masses = cluster_masses(weights, [[0], [1, 2]])
    assert masses == pytest.approx([0.5, 0.5])
    assert semantic_entropy(masses) == pytest.approx(math.log(2))
    masses = [0.5, 0.25, 0.25]
    assert semantic_entropy(masses) == pytest.approx(1.5 * math.log(2))
    assert semantic_entropy(masses) == pytest.approx(stats.entropy(masses))


def test_discrete_semantic_entropy_counts_members():
    # shares 2/3 and 1/3
    expected = -(2 / 3) * math.log(2 / 3) - (1 / 3) * math.log(1 / 3)
    assert discrete_semantic_entropy([[0, 2], [1]]) == pytest.approx(expected)


def test_monte_carlo_form_of_lm_polygraph_hand_value():
    # p = 0.2, 0.1, 0.3 with clusters {0, 1} and {2}: class probabilities 0.3 and 0.3 for every answer -> -ln 0.3
    logprobs = [math.log(0.2), math.log(0.1), math.log(0.3)]
    assert monte_carlo_semantic_entropy(logprobs, [[0, 1], [2]]) == pytest.approx(-math.log(0.3))


def test_semantic_volume_of_identical_and_orthogonal_answers():
    eps = 1e-3
    identical = np.tile([[0.6, 0.8, 0.0]], (3, 1))
    # Gram = all ones: eigenvalues 3, 0, 0 -> ln(3 + eps) + 2 ln eps
    assert semantic_volume(identical, epsilon=eps) == pytest.approx(math.log(3 + eps) + 2 * math.log(eps))
    orthogonal = np.eye(3) * 7.0
    assert semantic_volume(orthogonal, epsilon=eps) == pytest.approx(3 * math.log(1 + eps))
    assert semantic_volume_normalized(semantic_volume(orthogonal, epsilon=eps), 3, epsilon=eps) == pytest.approx(1.0)
    assert semantic_volume_normalized(semantic_volume(identical, epsilon=eps), 3, epsilon=eps) < 0.02


def test_semantic_volume_matches_numpy_log_det():
    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(5, 16))
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    expected = math.log(np.linalg.det(unit @ unit.T + 1e-2 * np.eye(5)))
    assert semantic_volume(embeddings, epsilon=1e-2) == pytest.approx(expected)


def test_more_spread_answers_have_more_volume():
    close = np.array([[1.0, 0.1, 0.0], [1.0, 0.0, 0.1], [1.0, 0.05, 0.05]])
    assert semantic_volume(close) < semantic_volume(np.eye(3))


def test_cosine_affinity_clips_negatives_and_sets_the_diagonal():
    affinity = cosine_affinity(np.array([[1.0, 0.0], [-1.0, 0.0], [1.0, 1.0]]))
    assert affinity == pytest.approx(np.array([[1, 0, 2 ** -0.5], [0, 1, 0], [2 ** -0.5, 0, 1]]))


def test_zero_embedding_is_refused():
    with pytest.raises(ValueError, match="all zeros"):
        semantic_volume(np.zeros((2, 3)))
