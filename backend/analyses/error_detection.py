"""Error detection: how well does a score rank wrong answers above right ones?

Inputs are a score per item (N,) and correctness labels (N,) in {0, 1}. `higher_is` says which way the score
points: "confident" (a probability, a log-likelihood) or "uncertain" (an entropy). Everything here is a ranking
metric, so unbounded scores need no mapping to [0, 1].

References: AUROC / AUPRC for failure prediction, Hendrycks & Gimpel, "A Baseline for Detecting Misclassified and
Out-of-Distribution Examples" (ICLR 2017); risk-coverage and AURC, Geifman & El-Yaniv, "Selective Classification
for Deep Neural Networks" (NeurIPS 2017); prediction rejection ratio, Malinin et al., "Ensemble Distribution
Distillation" (ICLR 2020), computed as lm-polygraph does (Fadeeva et al., EMNLP 2023 demo).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.stats import rankdata

Direction = Literal["confident", "uncertain"]


def uncertainty_of(score, higher_is: Direction) -> np.ndarray:
    """(N,) scores turned into uncertainty (higher = more likely wrong): negated when higher means confident."""
    values = np.asarray(score, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(values)):
        raise ValueError("scores must be finite numbers")
    return -values if higher_is == "confident" else values


def _labels(correct) -> np.ndarray:
    hit = np.asarray(correct, dtype=np.float64).reshape(-1)
    if hit.size == 0 or not np.all((hit == 0) | (hit == 1)):
        raise ValueError("correctness labels must be a non-empty list of 0 and 1")
    return hit


def error_auroc(score, correct, higher_is: Direction) -> float:
    """Probability that a random wrong item gets more uncertainty than a random right one (ties count half).

    Rank-sum (Mann-Whitney) form, equal to sklearn's roc_auc_score(wrong, uncertainty). NaN when all items are
    right or all wrong.
    """
    uncertainty, hit = uncertainty_of(score, higher_is), _labels(correct)
    wrong = hit == 0
    n_wrong, n_right = int(wrong.sum()), int((~wrong).sum())
    if n_wrong == 0 or n_right == 0:
        return float("nan")
    ranks = rankdata(uncertainty)
    return float((ranks[wrong].sum() - n_wrong * (n_wrong + 1) / 2) / (n_wrong * n_right))


def error_auprc(score, correct, higher_is: Direction) -> float:
    """Average precision of finding the wrong items by descending uncertainty: sum_n (R_n - R_{n-1}) P_n over the
    distinct thresholds (sklearn's average_precision_score). NaN when no item is wrong."""
    uncertainty, hit = uncertainty_of(score, higher_is), _labels(correct)
    wrong = (hit == 0).astype(np.float64)
    if wrong.sum() == 0:
        return float("nan")
    order = np.argsort(-uncertainty, kind="stable")
    sorted_u, sorted_wrong = uncertainty[order], wrong[order]
    last_of_tie = np.r_[np.diff(sorted_u) != 0, True]
    true_pos = np.cumsum(sorted_wrong)[last_of_tie]
    flagged = (np.arange(1, len(sorted_u) + 1))[last_of_tie]
    precision, recall = true_pos / flagged, true_pos / wrong.sum()
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


@dataclass(frozen=True)
class RiskCoverage:
    """Selective prediction keeping the k most confident items, k = 1..N. Arrays (N,)."""

    coverage: np.ndarray
    risk: np.ndarray

    @property
    def aurc(self) -> float:
        """Area under the risk-coverage curve: the mean risk over k = 1..N (Geifman & El-Yaniv 2017)."""
        return float(np.mean(self.risk))


def risk_coverage(score, correct, higher_is: Direction) -> RiskCoverage:
    """coverage k/N and risk (error rate among the k least uncertain) for k = 1..N.

    Items are ordered by uncertainty, ties in the order given (stable sort).
    """
    uncertainty, hit = uncertainty_of(score, higher_is), _labels(correct)
    if uncertainty.shape != hit.shape:
        raise ValueError(f"{uncertainty.size} scores but {hit.size} correctness labels")
    order = np.argsort(uncertainty, kind="stable")
    kept = np.arange(1, hit.size + 1)
    return RiskCoverage(kept / hit.size, np.cumsum(1.0 - hit[order]) / kept)


def prediction_rejection_area(uncertainty, quality) -> float:
    """lm-polygraph's PredictionRejectionArea: the mean over k = 1..N of the mean quality of the k least uncertain
    items (uncertainty (N,), higher = less sure; quality (N,), higher = better). Ordered as lm-polygraph orders
    them: np.argsort(uncertainty), least uncertain first (ties in numpy's default sort order)."""
    ue = np.asarray(uncertainty, dtype=np.float64)
    target = np.asarray(quality, dtype=np.float64)
    cumulative = np.cumsum(target[np.argsort(ue)])
    scores = (cumulative / np.arange(1, ue.size + 1))[::-1]
    return float(np.sum(scores) / ue.size)


def prediction_rejection_ratio(score, correct, higher_is: Direction) -> float:
    """PRR = (PRA(method) - PRA(random)) / (PRA(oracle) - PRA(random)), quality = correctness.

    The oracle ranks by -quality (lm-polygraph's oracle). lm-polygraph estimates the random baseline from 1000
    shuffles; its exact expectation, the mean quality, is used here. 1 = as good as the oracle, 0 = random,
    negative = worse than random; NaN when all items are right or all wrong.
    """
    uncertainty, hit = uncertainty_of(score, higher_is), _labels(correct)
    if hit.min() == hit.max():
        return float("nan")
    random = float(hit.mean())
    oracle = prediction_rejection_area(-hit, hit)
    return (prediction_rejection_area(uncertainty, hit) - random) / (oracle - random)
