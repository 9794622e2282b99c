"""Kernel language entropy and CoCoA on constructed graphs and similarities worked out by hand (K = 2 and 3 with
closed-form heat kernels and eigenvalues), the heat kernel against scipy's expm, and the limits of both scores."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.linalg import expm

from backend.analyses.kernel_scores import (cocoa, graph_laplacian, heat_kernel, kernel_language_entropy,
                                            mean_dissimilarity, unit_trace, von_neumann_entropy)


def binary_entropy(p: float) -> float:
    return -(p * math.log(p) + (1 - p) * math.log(1 - p))


def pair(a: float) -> np.ndarray:
    return np.array([[1.0, a], [a, 1.0]])


def clique(k: int, a: float) -> np.ndarray:
    w = np.full((k, k), a)
    np.fill_diagonal(w, 1.0)
    return w


def test_laplacian_ignores_the_diagonal():
    assert graph_laplacian(pair(0.4)) == pytest.approx(np.array([[0.4, -0.4], [-0.4, 0.4]]))
    with pytest.raises(ValueError, match="symmetric"):
        graph_laplacian(np.array([[1.0, 0.2], [0.3, 1.0]]))


@pytest.mark.parametrize("a, t", [(0.4, 0.6), (1.0, 0.3), (0.0, 1.0), (0.9, 5.0)])
def test_two_answers_by_hand(a, t):
    # L has eigenvalues 0 (1, 1)/sqrt 2 and 2a (1, -1)/sqrt 2, so exp(-tL) = 1/2 [[1 + e, 1 - e], [1 - e, 1 + e]]
    # with e = exp(-2at); rho = 1/2 [[1, r], [r, 1]] with r = tanh(at), eigenvalues (1 +- r) / 2
    e = math.exp(-2 * a * t)
    assert heat_kernel(pair(a), t) == pytest.approx(np.array([[1 + e, 1 - e], [1 - e, 1 + e]]) / 2, abs=1e-15)
    r = math.tanh(a * t)
    value, density, eigenvalues = kernel_language_entropy(pair(a), t)
    assert density == pytest.approx(np.array([[1, r], [r, 1]]) / 2, abs=1e-15)
    assert eigenvalues == pytest.approx([(1 + r) / 2, (1 - r) / 2], abs=1e-15)
    assert value == pytest.approx(binary_entropy((1 + r) / 2), rel=1e-12, abs=1e-15)


def test_three_equally_close_answers_by_hand():
    # L = a(3I - J): eigenvalues 0, 3a, 3a; exp(-tL) = J/3 + e (I - J/3) with e = exp(-3at); its unit-diagonal
    # form has r = (1 - e) / (1 + 2e) off the diagonal, so rho's eigenvalues are (1 + 2r)/3 and (1 - r)/3 twice
    a, t = 0.4, 0.6
    e = math.exp(-3 * a * t)
    r = (1 - e) / (1 + 2 * e)
    lambdas = [(1 + 2 * r) / 3, (1 - r) / 3, (1 - r) / 3]
    value, density, eigenvalues = kernel_language_entropy(clique(3, a), t)
    assert density == pytest.approx((np.full((3, 3), r) + (1 - r) * np.eye(3)) / 3, abs=1e-15)
    assert eigenvalues == pytest.approx(lambdas, abs=1e-15)
    assert value == pytest.approx(-sum(x * math.log(x) for x in lambdas), rel=1e-12)
    assert value == pytest.approx(1.0349776852938346, rel=1e-12)


def test_two_meanings_one_shared_by_two_answers_by_hand():
    # blocks {0, 1} (agreement 1) and {2}: rho = 1/3 [[1, r, 0], [r, 1, 0], [0, 0, 1]] with r = tanh(t)
    t = 0.6
    w = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    r = math.tanh(t)
    value, _density, eigenvalues = kernel_language_entropy(w, t)
    assert eigenvalues == pytest.approx([(1 + r) / 3, 1 / 3, (1 - r) / 3], abs=1e-15)
    assert value == pytest.approx(-sum(x * math.log(x) for x in ((1 + r) / 3, 1 / 3, (1 - r) / 3)), rel=1e-12)


def test_heat_kernel_equals_scipy_expm_on_a_random_graph():
    rng = np.random.default_rng(7)
    w = rng.uniform(size=(6, 6))
    w = (w + w.T) / 2
    np.fill_diagonal(w, 1.0)
    laplacian = np.diag(w.sum(axis=1)) - w
    assert heat_kernel(w, 0.6) == pytest.approx(expm(-0.6 * laplacian), abs=1e-13)
    density = unit_trace(heat_kernel(w, 0.6))
    assert np.trace(density) == pytest.approx(1.0, abs=1e-14) and np.allclose(density, density.T)


def test_limits_unrelated_answers_give_ln_k_and_a_long_time_on_a_connected_graph_gives_zero():
    assert kernel_language_entropy(np.eye(4), 0.6)[0] == pytest.approx(math.log(4), abs=1e-14)
    assert kernel_language_entropy(clique(4, 1.0), 10.0)[0] == pytest.approx(0.0, abs=1e-14)
    values = [kernel_language_entropy(clique(4, 0.5), t)[0] for t in (0.1, 0.6, 2.0)]
    assert math.log(4) > values[0] > values[1] > values[2] > 0  # agreement spreads as t grows


def test_von_neumann_entropy_of_a_diagonal_density_is_the_shannon_entropy():
    value, eigenvalues = von_neumann_entropy(np.diag([0.5, 0.25, 0.25, 0.0]))
    assert value == pytest.approx(1.5 * math.log(2), rel=1e-14)
    assert eigenvalues == pytest.approx([0.5, 0.25, 0.25, 0.0])


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="must be positive"):
        heat_kernel(pair(0.5), 0.0)
    with pytest.raises(ValueError, match="non-positive diagonal"):
        unit_trace(np.array([[0.0, 0.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="no samples"):
        mean_dissimilarity([])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        mean_dissimilarity([0.5, 1.5])
    with pytest.raises(ValueError, match=">= 0"):
        cocoa(-1.0, [0.5])


def test_cocoa_by_hand():
    # answer p = 0.1 -> u = ln 10; similarities 1, 0.5, 0 -> mean dissimilarity 1/2
    assert mean_dissimilarity([1.0, 0.5, 0.0]) == pytest.approx(0.5)
    assert cocoa(math.log(10), [1.0, 0.5, 0.0]) == pytest.approx(math.log(10) / 2, rel=1e-15)
    assert cocoa(math.log(10), [1.0, 1.0]) == 0.0  # every sample agrees: no uncertainty left
    assert cocoa(0.0, [0.0, 0.0]) == 0.0  # a certain answer
    assert cocoa(2.0, [0.0, 0.0]) == 2.0  # nothing agrees: the answer's own surprisal
