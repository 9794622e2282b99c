"""Graph scores of Lin et al. (2024): hand values on identical, unrelated and two-group answers, and a direct
re-implementation of lm-polygraph's formulas as the reference.

Both follow, with W the symmetric K x K affinity and D = diag(W 1):
  L = I - D^-1/2 W D^-1/2;  EigV = sum_k max(0, 1 - lambda_k(L));  Degree = trace(K I - D) / K^2;
  Eccentricity = || centred rows of the eigenvectors of L with lambda < 0.9 ||_F.
lm-polygraph's NumSemSets counts connected components of the graph "entail > contradict in both directions",
where UQ Lens counts the clusters of Kuhn et al.'s greedy bidirectional-entailment clustering (also used for
semantic entropy); the two agree whenever the relation is transitive.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.linalg import eigh

from backend.analyses.meaning_graph import (check_affinity, degree_uncertainty, eccentricity,
                                            eigenvalue_uncertainty, greedy_meaning_clusters, laplacian_spectrum,
                                            normalized_laplacian)

K = 4
IDENTICAL = np.ones((K, K))
UNRELATED = np.eye(K)
TWO_GROUPS = np.kron(np.eye(2), np.ones((2, 2)))


def polygraph_scores(w: np.ndarray, threshold: float = 0.9) -> tuple[float, float, float]:
    """EigV, Degree and Eccentricity written as lm-polygraph writes them."""
    d = np.diag(w.sum(axis=1))
    d_inverse_sqrt = np.linalg.inv(np.sqrt(d))
    laplacian = np.eye(d.shape[0]) - d_inverse_sqrt @ w @ d_inverse_sqrt
    eigv = sum(max(0, 1 - lam) for lam in np.linalg.eig(laplacian)[0].real)
    degree = np.trace(len(w) - d) / len(w) ** 2
    values, vectors = eigh(laplacian)
    kept = vectors[:, values < threshold].T
    ecc = np.linalg.norm(np.asarray([np.linalg.norm(x - x.mean(0), 2) for x in kept]), 2)
    return eigv, degree, ecc


def test_identical_answers_form_one_cluster_and_score_no_uncertainty():
    assert greedy_meaning_clusters(IDENTICAL.astype(bool)) == [[0, 1, 2, 3]]
    values, _ = laplacian_spectrum(IDENTICAL)
    assert values == pytest.approx([0, 1, 1, 1], abs=1e-12)
    assert eigenvalue_uncertainty(values) == pytest.approx(1.0)
    assert degree_uncertainty(IDENTICAL) == pytest.approx(0.0)
    assert eccentricity(IDENTICAL)[0] == pytest.approx(0.0, abs=1e-12)


def test_unrelated_answers_form_k_clusters_and_score_the_maximum():
    assert greedy_meaning_clusters(UNRELATED.astype(bool)) == [[0], [1], [2], [3]]
    values, _ = laplacian_spectrum(UNRELATED)
    assert eigenvalue_uncertainty(values) == pytest.approx(K)
    assert degree_uncertainty(UNRELATED) == pytest.approx((K - 1) / K)
    value, distances, kept = eccentricity(UNRELATED)
    assert value == pytest.approx(math.sqrt(K - 1))
    assert kept == K


def test_two_groups_hand_values():
    # L has eigenvalues 0, 0, 1, 1: EigV = 2. Degrees are 2, so Degree = (4 - 2) * 4 / 16 = 0.5.
    # The kept eigenvectors span the group indicators (1,1,0,0)/sqrt2 and (0,0,1,1)/sqrt2; centred, each has
    # squared norm 1/2, so Eccentricity = 1 and every answer sits 1/2 from the centre.
    values, _ = laplacian_spectrum(TWO_GROUPS)
    assert values == pytest.approx([0, 0, 1, 1], abs=1e-12)
    assert eigenvalue_uncertainty(values) == pytest.approx(2.0)
    assert degree_uncertainty(TWO_GROUPS) == pytest.approx(0.5)
    value, distances, kept = eccentricity(TWO_GROUPS)
    assert value == pytest.approx(1.0)
    assert distances == pytest.approx([0.5] * 4)
    assert kept == 2
    assert greedy_meaning_clusters(TWO_GROUPS.astype(bool)) == [[0, 1], [2, 3]]


def test_greedy_clustering_compares_with_each_clusters_first_member():
    same = np.eye(3, dtype=bool)
    same[0, 1] = same[1, 0] = True  # 0 ~ 1
    same[1, 2] = same[2, 1] = True  # 1 ~ 2 but not 0 ~ 2: 2 starts its own cluster
    assert greedy_meaning_clusters(same) == [[0, 1], [2]]


def test_one_directional_entailment_is_not_the_same_meaning():
    same = np.eye(2, dtype=bool)
    same[0, 1] = True
    assert greedy_meaning_clusters(same) == [[0], [1]]


def test_scores_match_lm_polygraph_formulas_on_random_affinities():
    rng = np.random.default_rng(0)
    for k in (2, 3, 5, 8):
        w = rng.uniform(0, 1, (k, k))
        w = (w + w.T) / 2
        np.fill_diagonal(w, 1.0)
        eigv, degree, ecc = polygraph_scores(w)
        assert eigenvalue_uncertainty(laplacian_spectrum(w)[0]) == pytest.approx(eigv, abs=1e-9)
        assert degree_uncertainty(w) == pytest.approx(degree, abs=1e-12)
        assert eccentricity(w)[0] == pytest.approx(ecc, abs=1e-9)


def test_laplacian_is_symmetric_with_eigenvalues_in_0_2():
    w = np.array([[1.0, 0.3, 0.0], [0.3, 1.0, 0.9], [0.0, 0.9, 1.0]])
    laplacian = normalized_laplacian(w)
    assert laplacian == pytest.approx(laplacian.T)
    values = np.linalg.eigvalsh(laplacian)
    assert values.min() >= -1e-12 and values.max() <= 2 + 1e-12


@pytest.mark.parametrize("bad", [np.array([[1.0, 0.2], [0.3, 1.0]]), np.array([[1.0, -0.1], [-0.1, 1.0]]),
                                 np.zeros((2, 2)), np.ones((2, 3))])
def test_bad_affinities_are_refused(bad):
    with pytest.raises(ValueError, match="affinity"):
        check_affinity(bad)
