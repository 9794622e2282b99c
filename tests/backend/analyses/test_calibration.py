"""Calibration metrics against hand-computed values, torchmetrics and netcal (same binning, to 1e-6)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torchmetrics.functional.classification import binary_calibration_error, multiclass_calibration_error
from torchmetrics.functional.classification.calibration_error import _ce_compute

from backend.analyses import calibration as cal

CONF = [0.1, 0.2, 0.85, 0.9, 1.0]
HIT = [0, 1, 1, 0, 1]


def random_case(seed: int, n: int = 500, with_edges: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Seeded confidences (a few exactly 0 and 1 when with_edges) and labels drawn with P(correct) = c^1.3."""
    rng = np.random.default_rng(seed)
    conf = rng.uniform(0, 1, n)
    if with_edges:
        conf[:7], conf[7:13] = 0.0, 1.0
    return conf, (rng.uniform(0, 1, n) < conf ** 1.3).astype(float)


def test_hand_values_equal_width():
    bins = cal.reliability_bins(CONF, HIT, n_bins=4)
    assert bins.counts.tolist() == [2, 0, 0, 3]
    assert np.isnan(bins.accuracy[1]) and np.isnan(bins.mean_confidence[2])
    assert bins.mean_confidence[0] == pytest.approx(0.15) and bins.accuracy[3] == pytest.approx(2 / 3)
    assert cal.expected_calibration_error(CONF, HIT, n_bins=4) == pytest.approx(0.4 * 0.35 + 0.6 * 0.25)
    assert cal.expected_calibration_error(CONF, HIT, n_bins=2) == pytest.approx(0.29)
    assert cal.maximum_calibration_error(CONF, HIT, n_bins=4) == pytest.approx(0.35)


def test_hand_values_equal_mass_brier_nll():
    # 2 equal-mass bins: median 0.85 is the middle edge, so [0, 0.85) holds 0.1, 0.2 and [0.85, 1] the rest
    assert cal.reliability_bins(CONF, HIT, 2, "equal_mass").edges.tolist() == [0.0, 0.85, 1.0]
    assert cal.adaptive_calibration_error(CONF, HIT, n_bins=2) == pytest.approx((0.35 + 0.25) / 2)
    assert cal.brier_score(CONF, HIT) == pytest.approx((0.01 + 0.64 + 0.0225 + 0.81 + 0) / 5)
    expected_nll = -(math.log(0.9) + math.log(0.2) + math.log(0.85) + math.log(0.1)) / 5
    assert cal.negative_log_likelihood(CONF, HIT) == pytest.approx(expected_nll, abs=1e-9)
    assert math.isfinite(cal.negative_log_likelihood([0.0, 1.0], [1, 0]))


def test_edges_zero_and_one_fall_in_first_and_last_bins():
    bins = cal.reliability_bins([0.0, 0.5, 1.0], [0, 1, 1], n_bins=2)
    assert bins.counts.tolist() == [1, 2]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("n_bins", [1, 10, 15])
def test_against_torchmetrics_public_api(seed, n_bins):
    conf, hit = random_case(seed, with_edges=False)
    conf[:5] = 0.0  # 0 is in the first bin for both
    preds, target = torch.tensor(conf), torch.tensor(hit).long()
    assert cal.expected_calibration_error(conf, hit, n_bins) == pytest.approx(
        float(binary_calibration_error(preds, target, n_bins=n_bins, norm="l1")), abs=1e-6)
    assert cal.maximum_calibration_error(conf, hit, n_bins) == pytest.approx(
        float(binary_calibration_error(preds, target, n_bins=n_bins, norm="max")), abs=1e-6)


@pytest.mark.parametrize("seed", [3, 4])
def test_against_torchmetrics_with_exact_ones_same_binning(seed):
    """torchmetrics gives c = 1 a bin of its own; nudging its last edge above 1 reproduces the closed last bin."""
    conf, hit = random_case(seed)
    edges = torch.tensor(np.r_[np.linspace(0, 1, 11)[:-1], np.nextafter(1.0, 2.0)])
    reference = _ce_compute(torch.tensor(conf), torch.tensor(hit), edges, norm="l1")
    assert cal.expected_calibration_error(conf, hit, 10) == pytest.approx(float(reference), abs=1e-6)


def test_top_label_against_torchmetrics_multiclass():
    rng = np.random.default_rng(5)
    probs = torch.softmax(torch.tensor(rng.normal(size=(300, 4)) * 2), dim=1).numpy()
    labels = rng.integers(0, 4, 300)
    conf, hit = cal.top_label(probs, labels)
    reference = multiclass_calibration_error(torch.tensor(probs), torch.tensor(labels), num_classes=4, n_bins=10)
    assert cal.expected_calibration_error(conf, hit, 10) == pytest.approx(float(reference), abs=1e-6)


@pytest.mark.parametrize("seed", [6, 7])
def test_against_netcal(seed):
    netcal = pytest.importorskip("netcal.metrics")
    conf, hit = random_case(seed)
    assert cal.expected_calibration_error(conf, hit, 10) == pytest.approx(netcal.ECE(10).measure(conf, hit), abs=1e-6)
    assert cal.maximum_calibration_error(conf, hit, 10) == pytest.approx(netcal.MCE(10).measure(conf, hit), abs=1e-6)
    equal_mass_ace = netcal.ACE(10, equal_intervals=False).measure(conf, hit)  # netcal's default ACE is equal-width
    assert cal.adaptive_calibration_error(conf, hit, 10) == pytest.approx(equal_mass_ace, abs=1e-6)


def test_classwise_ece_and_multiclass_scores_against_references():
    rng = np.random.default_rng(8)
    probs = torch.softmax(torch.tensor(rng.normal(size=(200, 3)) * 1.5), dim=1).numpy()
    labels = rng.integers(0, 3, 200)
    per_class = [float(binary_calibration_error(torch.tensor(probs[:, k]), torch.tensor((labels == k).astype(int)),
                                                n_bins=10)) for k in range(3)]
    assert cal.classwise_ece(probs, labels, 10) == pytest.approx(np.mean(per_class), abs=1e-6)
    onehot = np.eye(3)[labels]
    assert cal.multiclass_brier_score(probs, labels) == pytest.approx(((probs - onehot) ** 2).sum(1).mean())
    reference_nll = torch.nn.functional.nll_loss(torch.log(torch.tensor(probs)), torch.tensor(labels))
    assert cal.multiclass_nll(probs, labels) == pytest.approx(float(reference_nll), abs=1e-9)


def test_brier_against_sklearn():
    from sklearn.metrics import brier_score_loss, log_loss

    conf, hit = random_case(9, with_edges=False)
    assert cal.brier_score(conf, hit) == pytest.approx(brier_score_loss(hit, conf), abs=1e-12)
    assert cal.negative_log_likelihood(conf, hit) == pytest.approx(log_loss(hit, conf), abs=1e-9)


@pytest.mark.parametrize("conf, hit, message", [
    ([], [], "no items"), ([0.5, 1.2], [1, 0], "in \\[0, 1\\]"), ([0.5], [2], "0 or 1"),
    ([0.5, 0.2], [1], "2 confidences but 1"), ([float("nan")], [1], "finite")])
def test_bad_inputs_say_what_is_wrong(conf, hit, message):
    with pytest.raises(ValueError, match=message):
        cal.expected_calibration_error(conf, hit)
