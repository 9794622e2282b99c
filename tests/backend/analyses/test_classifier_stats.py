"""Classifier statistics: one distribution (temperature, entropy, margin, top-k) and the ensemble split."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.special import softmax
from scipy.stats import entropy as scipy_entropy

from backend.analyses.classifier_stats import distribution_stats, ensemble_stats


def test_hand_computed_distribution():
    # logits ln 3, 0, 0 -> probabilities 3/5, 1/5, 1/5
    stats = distribution_stats(torch.tensor([math.log(3), 0.0, 0.0]), top_k=2)
    assert stats.top_indices == [0, 1]
    assert stats.top_probs == pytest.approx([0.6, 0.2])
    assert stats.margin == pytest.approx(0.4)
    assert stats.entropy == pytest.approx(-(0.6 * math.log(0.6) + 2 * 0.2 * math.log(0.2)))


def test_temperature_divides_the_logits():
    # logits (ln 9, 0) at T = 2 are (ln 3, 0): probabilities 3/4, 1/4
    stats = distribution_stats(torch.tensor([math.log(9), 0.0]), temperature=2.0)
    assert stats.top_probs == pytest.approx([0.75, 0.25])


def test_matches_scipy_on_random_logits():
    generator = np.random.default_rng(0)
    logits = generator.normal(size=1000) * 3
    for temperature in (0.5, 1.0, 2.5):
        stats = distribution_stats(torch.tensor(logits), temperature=temperature, top_k=5)
        reference = softmax(logits / temperature)
        assert stats.probs.numpy() == pytest.approx(reference, abs=1e-12)
        assert stats.entropy == pytest.approx(scipy_entropy(reference), abs=1e-10)
        assert stats.top_indices == list(np.argsort(-reference)[:5])


def test_uniform_logits_have_entropy_ln_c_and_no_margin():
    stats = distribution_stats(torch.zeros(10))
    assert stats.entropy == pytest.approx(math.log(10))
    assert stats.margin == pytest.approx(0.0)
    assert stats.top_indices == [0, 1, 2, 3, 4]  # ties by lower index


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="temperature"):
        distribution_stats(torch.zeros(3), temperature=0.0)
    with pytest.raises(ValueError, match="shape"):
        distribution_stats(torch.zeros(2, 3))


def test_two_confident_passes_that_disagree_are_all_epistemic():
    stats = ensemble_stats(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    assert stats.mean.tolist() == [0.5, 0.5]
    assert stats.predictive_entropy == pytest.approx(math.log(2))
    assert stats.expected_entropy == pytest.approx(0.0)
    assert stats.mutual_information == pytest.approx(math.log(2))
    assert stats.std.tolist() == pytest.approx([0.5, 0.5])
    assert stats.agreement == 0.5  # mean's argmax is class 0 (tie to the lower index); one pass agrees


def test_identical_unsure_passes_are_all_aleatoric():
    stats = ensemble_stats(torch.tensor([[0.5, 0.5]] * 3))
    assert stats.predictive_entropy == pytest.approx(math.log(2))
    assert stats.expected_entropy == pytest.approx(math.log(2))
    assert stats.mutual_information == pytest.approx(0.0, abs=1e-12)
    assert stats.agreement == 1.0


def test_ensemble_matches_scipy_on_random_passes():
    generator = np.random.default_rng(1)
    probs = generator.dirichlet(np.ones(6) * 0.7, size=9)
    stats = ensemble_stats(torch.tensor(probs))
    mean = probs.mean(axis=0)
    assert stats.predictive_entropy == pytest.approx(scipy_entropy(mean), abs=1e-12)
    assert stats.expected_entropy == pytest.approx(np.mean([scipy_entropy(p) for p in probs]), abs=1e-12)
    assert stats.mutual_information == pytest.approx(scipy_entropy(mean) - np.mean([scipy_entropy(p) for p in probs]))
    assert stats.std.numpy() == pytest.approx(probs.std(axis=0), abs=1e-12)
    assert stats.agreement == pytest.approx(np.mean(probs.argmax(axis=1) == mean.argmax()))
