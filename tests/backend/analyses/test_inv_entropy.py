"""Inv-Entropy's numbers on constructed pairs worked out by hand: |cos| similarities, the dual random walk's
inverse model p(x | y), its marginals and Bayes' p(y | x), the pairs' own terms and the spread over prompts."""
from __future__ import annotations

import math

import numpy as np
import pytest

from backend.analyses import inv_entropy as inv

S_X = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])  # pairs 1, 2 share a prompt; 3 its own
S_Y = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0], [0.0, 1.0, 1.0]])  # answers 2 and 3 alike, 1 apart


def test_abs_cosine_folds_negative_similarity_and_gives_zero_rows_no_similarity():
    found = inv.abs_cosine(np.array([[1.0, 0.0], [-2.0, 0.0], [0.0, 0.0], [3.0, 3.0]]))
    assert found[0, 1] == pytest.approx(1.0) and found[0, 3] == pytest.approx(math.sqrt(0.5))
    assert found[2, 0] == 0.0 and found[2, 2] == 1.0 and np.allclose(found, found.T)


def test_the_inverse_model_of_three_pairs_by_hand():
    model = inv.inverse_model(S_X, S_Y)
    assert model["p_y"] == pytest.approx([1 / 3, 1 / 3, 1 / 3])  # column sums of P_Y are 1, 1, 1
    assert model["p_x_given_y"] == pytest.approx(np.array([[0.5, 0.5, 0], [0.25, 0.25, 0.5], [0.25, 0.25, 0.5]]))
    assert model["p_x"] == pytest.approx([1 / 3, 1 / 3, 1 / 3])
    assert model["p_y_given_x"] == pytest.approx(model["p_x_given_y"].T)  # uniform marginals: Bayes transposes
    assert model["q"] == pytest.approx([0.5, 0.25, 0.5])
    assert inv.inv_entropy(model["q"]) == pytest.approx(1.5 * math.log(2), rel=1e-12)


def test_bayes_rows_are_distributions_when_the_marginals_are_not_uniform():
    s_y = np.array([[1.0, 0.9, 0.1], [0.9, 1.0, 0.2], [0.1, 0.2, 1.0]])
    s_x = np.array([[1.0, 0.3, 0.6], [0.3, 1.0, 0.5], [0.6, 0.5, 1.0]])
    model = inv.inverse_model(s_x, s_y)
    assert model["p_x_given_y"].sum(axis=1) == pytest.approx(np.ones(3))
    assert model["p_y_given_x"].sum(axis=1) == pytest.approx(np.ones(3))
    assert model["p_y"].sum() == pytest.approx(1.0) and model["p_x"].sum() == pytest.approx(1.0)


def test_inv_entropy_terms_reach_one_over_e_at_most_and_skip_zeros():
    assert inv.inv_entropy(np.array([1 / math.e] * 4)) == pytest.approx(4 / math.e)
    assert inv.inv_entropy(np.array([0.0, 1.0])) == 0.0


def test_pairs_and_their_spread_over_prompts():
    inputs = inv.pair_inputs([2, 1])
    assert inputs.tolist() == [0, 0, 1]
    spread = inv.posterior_by_prompt(inv.inverse_model(S_X, S_Y)["p_x_given_y"], inputs, 2)
    assert spread == pytest.approx(np.array([[1.0, 0.0], [0.5, 0.5], [0.5, 0.5]]))
