"""Bootstrap intervals: a hand-computed case, scipy.stats.bootstrap on the same data, and every batched metric equal
to its scalar definition on each resample."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import bootstrap as scipy_bootstrap

from backend.analyses import bootstrap as bs
from backend.analyses import calibration as cal
from backend.analyses import error_detection as ed


def test_hand_computed_interval_of_a_mean():
    # Mean of 4 draws from [0, 0, 0, 1]: P(0) = 0.316, P(<= 1/2) = 0.949, P(<= 3/4) = 0.996, so the 2.5th
    # percentile of the resampled means is 0 and the 97.5th is 3/4.
    values = np.array([0.0, 0.0, 0.0, 1.0])
    assert bs.bootstrap_interval(bs.batched_mean, values, seed=0) == (0.0, 0.75)


def test_interval_agrees_with_scipy_bootstrap():
    rng = np.random.default_rng(3)
    conf = rng.uniform(0.3, 1.0, 300)
    hit = (rng.uniform(0, 1, 300) < conf ** 2).astype(np.float64)
    ours = bs.bootstrap_interval(bs.batched_brier, conf, hit, n_resamples=5000, seed=1)
    theirs = scipy_bootstrap((conf, hit), lambda c, y: cal.brier_score(c, y), paired=True, vectorized=False,
                             n_resamples=5000, method="percentile", random_state=1).confidence_interval
    assert ours == pytest.approx((theirs.low, theirs.high), abs=0.004)
    assert ours[0] < cal.brier_score(conf, hit) < ours[1]


def test_seeded_and_none_when_mostly_undefined():
    hit = np.ones(20)
    score = np.linspace(0, 1, 20)
    assert bs.bootstrap_interval(lambda s, y: bs.batched_auroc(s, y, "confident"), score, hit) is None
    conf = np.linspace(0.05, 0.95, 20)
    assert bs.bootstrap_interval(bs.batched_nll, conf, hit, seed=4) == bs.bootstrap_interval(bs.batched_nll, conf,
                                                                                             hit, seed=4)


@pytest.mark.parametrize("n", [7, 60])
def test_batched_metrics_equal_the_scalar_ones_on_every_resample(n):
    rng = np.random.default_rng(n)
    conf = rng.uniform(0, 1, n)
    conf[:2] = [0.0, 1.0]
    hit = (rng.uniform(0, 1, n) < conf).astype(np.float64)
    hit[:2] = [0.0, 1.0]
    hit[2] = 1.0 - hit[3]
    score = np.log(conf + 0.01)
    indices = bs.resample_indices(n, 40, seed=2)
    c, y, s = conf[indices], hit[indices], score[indices]
    pairs = [(bs.batched_ece(c, y, 10), lambda i: cal.expected_calibration_error(conf[i], hit[i], 10)),
             (bs.batched_mce(c, y, 10), lambda i: cal.maximum_calibration_error(conf[i], hit[i], 10)),
             (bs.batched_ace(c, y, 10), lambda i: cal.adaptive_calibration_error(conf[i], hit[i], 10)),
             (bs.batched_brier(c, y), lambda i: cal.brier_score(conf[i], hit[i])),
             (bs.batched_nll(c, y), lambda i: cal.negative_log_likelihood(conf[i], hit[i]))]
    for direction, sign in (("confident", 1.0), ("uncertain", -1.0)):
        pairs += [(bs.batched_auroc(sign * s, y, direction), lambda i, d=direction, g=sign:
                   ed.error_auroc(g * score[i], hit[i], d)),
                  (bs.batched_auprc(sign * s, y, direction), lambda i, d=direction, g=sign:
                   ed.error_auprc(g * score[i], hit[i], d)),
                  (bs.batched_aurc(sign * s, y, direction), lambda i, d=direction, g=sign:
                   ed.risk_coverage(g * score[i], hit[i], d).aurc),
                  (bs.batched_prr(sign * s, y, direction), lambda i, d=direction, g=sign:
                   ed.prediction_rejection_ratio(g * score[i], hit[i], d))]
    for batched, scalar in pairs:
        with np.errstate(invalid="ignore", divide="ignore"):
            expected = np.array([scalar(row) for row in indices])
        np.testing.assert_allclose(batched, expected, rtol=1e-12, atol=1e-12)


def test_batched_classwise_ece_equals_the_scalar_one():
    rng = np.random.default_rng(5)
    probs = rng.dirichlet(np.ones(4), 50)
    labels = rng.integers(0, 3, 50)
    indices = bs.resample_indices(50, 20, seed=0)
    batched = bs.batched_classwise_ece(probs[indices], labels[indices], 10, classes=[0, 1, 2])
    expected = [cal.classwise_ece(probs[i], labels[i], 10, classes=[0, 1, 2]) for i in indices]
    np.testing.assert_allclose(batched, expected, rtol=1e-12)
