"""Error-detection metrics against hand values, scikit-learn / torchmetrics and a re-implementation of lm-polygraph."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score, roc_auc_score
from torchmetrics.functional.classification import binary_auroc

from backend.analyses import error_detection as ed

CONF = [0.9, 0.8, 0.3, 0.6]
HIT = [1, 0, 0, 1]


def test_hand_values():
    assert ed.error_auroc(CONF, HIT, "confident") == pytest.approx(0.75)
    assert ed.error_auprc(CONF, HIT, "confident") == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    curve = ed.risk_coverage(CONF, HIT, "confident")
    assert curve.coverage.tolist() == [0.25, 0.5, 0.75, 1.0]
    assert curve.risk.tolist() == pytest.approx([0, 0.5, 1 / 3, 0.5])
    assert curve.aurc == pytest.approx((0.5 + 1 / 3 + 0.5) / 4)
    assert ed.prediction_rejection_ratio(CONF, HIT, "confident") == pytest.approx(4 / 7)


def test_direction_uncertain_is_the_mirror():
    entropy = [-c for c in CONF]
    assert ed.error_auroc(entropy, HIT, "uncertain") == pytest.approx(0.75)
    mirrored = ed.risk_coverage(entropy, HIT, "uncertain").aurc
    assert mirrored == pytest.approx(ed.risk_coverage(CONF, HIT, "confident").aurc)


def test_perfect_and_undefined_cases():
    assert ed.error_auroc([0.9, 0.1], [1, 0], "confident") == 1.0
    assert ed.prediction_rejection_ratio([0.9, 0.1], [1, 0], "confident") == pytest.approx(1.0)
    assert np.isnan(ed.error_auroc([0.9, 0.1], [1, 1], "confident"))
    assert np.isnan(ed.error_auprc([0.9, 0.1], [1, 1], "confident"))
    assert np.isnan(ed.prediction_rejection_ratio([0.9, 0.1], [0, 0], "confident"))


def random_case(seed: int, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    conf = np.round(rng.uniform(0, 1, n), 2)  # rounding makes ties
    conf[:5], conf[5:10] = 0.0, 1.0
    return conf, (rng.uniform(0, 1, n) < conf).astype(float)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_against_sklearn_and_torchmetrics(seed):
    conf, hit = random_case(seed)
    wrong = 1 - hit
    assert ed.error_auroc(conf, hit, "confident") == pytest.approx(roc_auc_score(wrong, -conf), abs=1e-9)
    assert ed.error_auroc(conf, hit, "confident") == pytest.approx(
        float(binary_auroc(torch.tensor(-conf), torch.tensor(wrong).long())), abs=1e-6)
    assert ed.error_auprc(conf, hit, "confident") == pytest.approx(average_precision_score(wrong, -conf), abs=1e-9)


def lm_polygraph_prr(estimator: np.ndarray, target: np.ndarray, num_iter: int = 1000) -> float:
    """lm-polygraph's PredictionRejectionArea and its normalisation (oracle, random over seeded shuffles)."""
    def pra(ue, quality):
        cumsum = np.cumsum(np.asarray(quality)[np.argsort(ue)])
        return np.sum((cumsum / np.arange(1, len(ue) + 1))[::-1]) / len(ue)

    np.random.seed(42)
    shuffled, values = np.arange(len(target)), []
    for _ in range(num_iter):
        np.random.shuffle(shuffled)
        values.append(pra(shuffled, target))
    random, oracle = np.mean(values), pra(-target, target)
    return (pra(estimator, target) - random) / (oracle - random)


@pytest.mark.parametrize("seed", [3, 4])
def test_prr_against_lm_polygraph_procedure(seed):
    rng = np.random.default_rng(seed)
    conf = rng.uniform(0, 1, 300)  # no ties: the sort order cannot differ
    hit = (rng.uniform(0, 1, 300) < conf).astype(float)
    assert ed.prediction_rejection_ratio(conf, hit, "confident") == pytest.approx(lm_polygraph_prr(-conf, hit),
                                                                                  abs=0.02)
    random_expected = hit.mean()
    oracle = ed.prediction_rejection_area(-hit, hit)
    method = ed.prediction_rejection_area(-conf, hit)
    assert ed.prediction_rejection_ratio(conf, hit, "confident") == pytest.approx(
        (method - random_expected) / (oracle - random_expected), abs=1e-12)


def test_aurc_is_one_minus_prediction_rejection_area():
    rng = np.random.default_rng(5)
    conf = rng.uniform(0, 1, 200)
    hit = (rng.uniform(0, 1, 200) < conf).astype(float)
    assert ed.risk_coverage(conf, hit, "confident").aurc == pytest.approx(
        1 - ed.prediction_rejection_area(-conf, hit), abs=1e-12)


def test_bad_inputs():
    with pytest.raises(ValueError, match="finite"):
        ed.error_auroc([float("inf")], [1], "confident")
    with pytest.raises(ValueError, match="0 and 1"):
        ed.risk_coverage([0.3], [0.5], "confident")
