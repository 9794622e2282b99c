"""Scores of one generation: hand values on small distributions, and scipy as the reference for kurtosis."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from backend.analyses.generation_scores import (KURTOSIS_BYTES_PER_ENTRY, excess_kurtosis, geometric_mean_probability,
                                                length_normalized_log_likelihood, max_excess_kurtosis,
                                                max_token_entropy, mean_token_entropy, mean_token_probability,
                                                perplexity, sequence_log_probability, sequence_probability)

LOGPROBS = [math.log(0.5), math.log(0.25), math.log(0.8)]


def test_sequence_probability_is_the_product_of_token_probabilities():
    assert sequence_probability(LOGPROBS) == pytest.approx(0.1)


def test_length_normalized_log_likelihood_is_the_mean_log_probability():
    assert length_normalized_log_likelihood(LOGPROBS) == pytest.approx(math.log(0.1) / 3)


def test_token_level_scores_hand_values():
    # p = 0.5, 0.25, 0.8: product 0.1, arithmetic mean 1.55 / 3; entropies 0.1, 0.7, 0.4 nats
    assert sequence_log_probability(LOGPROBS) == pytest.approx(math.log(0.1))
    assert mean_token_probability(LOGPROBS) == pytest.approx(1.55 / 3)
    assert geometric_mean_probability(LOGPROBS) == pytest.approx(0.1 ** (1 / 3))
    assert perplexity(LOGPROBS) == pytest.approx(10 ** (1 / 3))
    assert mean_token_entropy([0.1, 0.7, 0.4]) == pytest.approx(0.4)
    assert max_token_entropy([0.1, 0.7, 0.4]) == 0.7


def test_kurtosis_hand_value():
    # p = (0.7, 0.1, 0.1, 0.1): mean 1/4, deviations 0.45 and three times -0.15;
    # m2 = (0.2025 + 3 * 0.0225) / 4 = 0.0675, m4 = (0.04100625 + 3 * 0.00050625) / 4 = 0.01063125,
    # m4 / m2^2 = 7/3, so the excess kurtosis is 7/3 - 3 = -2/3.
    logits = torch.log(torch.tensor([[0.7, 0.1, 0.1, 0.1]]))
    assert excess_kurtosis(logits).item() == pytest.approx(-2 / 3)


def test_kurtosis_matches_scipy_on_random_logits():
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(5, 50, generator=generator) * 3
    for temperature in (1.0, 0.5):
        probs = torch.softmax(logits.double() / temperature, dim=-1).numpy()
        expected = stats.kurtosis(probs, axis=1, fisher=True, bias=True)
        assert excess_kurtosis(logits, temperature=temperature).numpy() == pytest.approx(expected, rel=1e-9)


def test_kurtosis_rows_are_processed_in_chunks_without_changing_values():
    logits = torch.randn(600, 7, generator=torch.Generator().manual_seed(1))
    whole = stats.kurtosis(torch.softmax(logits.double(), -1).numpy(), axis=1, fisher=True, bias=True)
    assert excess_kurtosis(logits).numpy() == pytest.approx(whole, rel=1e-9)
    fifty_rows = 50 * 7 * KURTOSIS_BYTES_PER_ENTRY
    assert excess_kurtosis(logits, budget_bytes=fifty_rows).numpy() == pytest.approx(whole, rel=1e-9)
    assert excess_kurtosis(logits, budget_bytes=1).numpy() == pytest.approx(whole, rel=1e-9)


def test_a_peaked_distribution_has_higher_kurtosis_than_a_flat_one():
    peaked, flat = torch.tensor([10.0, 0, 0, 0, 0]), torch.tensor([1.0, 0.9, 0.8, 0.7, 0.6])
    values = excess_kurtosis(torch.stack([peaked, flat]))
    assert values[0] > values[1]


@pytest.mark.parametrize("vocab", [2, 4, 10, 1000])
def test_max_excess_kurtosis_is_the_one_hot_value(vocab):
    one_hot = np.zeros(vocab)
    one_hot[0] = 1.0
    assert max_excess_kurtosis(vocab) == pytest.approx(stats.kurtosis(one_hot, fisher=True, bias=True))


def test_max_excess_kurtosis_bounds_random_distributions():
    probs = torch.softmax(torch.randn(20, 30, generator=torch.Generator().manual_seed(2)) * 5, -1)
    assert (excess_kurtosis(torch.log(probs)) <= max_excess_kurtosis(30) + 1e-9).all()


def test_bad_shapes_and_sizes_are_refused():
    with pytest.raises(ValueError, match="logits"):
        excess_kurtosis(torch.zeros(3))
    with pytest.raises(ValueError, match="2 outcomes"):
        max_excess_kurtosis(1)
