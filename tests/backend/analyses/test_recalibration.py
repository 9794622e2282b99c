"""Recalibration: temperature scaling recovers a known temperature; Platt and isotonic against scikit-learn."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from backend.analyses import recalibration as rc


def test_temperature_scaling_recovers_a_known_temperature():
    rng = np.random.default_rng(0)
    true_logits = rng.normal(size=(6000, 5)) * 2.0
    probs = torch.softmax(torch.tensor(true_logits), dim=1).numpy()
    labels = np.array([rng.choice(5, p=p) for p in probs])
    fitted = rc.fit_temperature(true_logits * 2.5, labels)  # an over-confident model: logits 2.5x too large
    assert fitted == pytest.approx(2.5, rel=0.06)


def test_fitted_temperature_minimises_the_nll_against_torch_lbfgs():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(300, 4)) * 3
    probs = torch.softmax(torch.tensor(logits / 1.7), dim=1).numpy()
    labels = np.array([rng.choice(4, p=p) for p in probs])
    fitted = rc.fit_temperature(logits, labels)
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t], max_iter=200, tolerance_grad=1e-12, line_search_fn="strong_wolfe")
    z, y = torch.tensor(logits), torch.tensor(labels)

    def closure():
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(z / log_t.exp(), y)
        loss.backward()
        return loss

    optimizer.step(closure)
    assert fitted == pytest.approx(float(log_t.detach().exp()), rel=1e-4)


def test_binary_temperature_hand_case():
    assert rc.apply_binary_temperature([0.5, 0.9], 1.0) == pytest.approx([0.5, 0.9])
    softened = rc.apply_binary_temperature([0.9], 2.0)[0]
    assert softened == pytest.approx(1 / (1 + np.sqrt(1 / 9)))  # sigmoid(ln 9 / 2) = 3 / 4
    rng = np.random.default_rng(2)
    true_p = rng.uniform(0.05, 0.95, 5000)
    hit = (rng.uniform(0, 1, 5000) < true_p).astype(float)
    overconfident = rc.apply_binary_temperature(true_p, 1 / 3)
    assert rc.fit_binary_temperature(overconfident, hit) == pytest.approx(3.0, rel=0.1)


def test_platt_matches_unpenalised_logistic_regression():
    rng = np.random.default_rng(3)
    score = rng.normal(-2, 3, 400)
    hit = (rng.uniform(0, 1, 400) < 1 / (1 + np.exp(-(0.7 * score + 1)))).astype(int)
    platt = rc.fit_platt(score, hit)
    reference = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(score[:, None], hit)
    assert platt.slope == pytest.approx(reference.coef_[0, 0], rel=1e-4)
    assert platt.intercept == pytest.approx(reference.intercept_[0], rel=1e-4)
    assert platt(score) == pytest.approx(reference.predict_proba(score[:, None])[:, 1], abs=1e-5)


def test_isotonic_hand_case_and_clipping():
    model = rc.fit_isotonic([1, 2, 3, 4], [0, 1, 0, 1])
    assert model.predict([1, 2, 3, 4]).tolist() == pytest.approx([0, 0.5, 0.5, 1])
    assert model.predict([-10, 10]).tolist() == pytest.approx([0, 1])


def test_split_is_seeded_and_disjoint():
    fit, evaluate = rc.split_indices(10, 0.5, seed=7)
    assert sorted(np.r_[fit, evaluate].tolist()) == list(range(10)) and len(fit) == 5
    assert np.array_equal(fit, rc.split_indices(10, 0.5, seed=7)[0])
    with pytest.raises(ValueError, match="at least 2"):
        rc.split_indices(1, 0.5, seed=0)
