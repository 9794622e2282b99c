"""Bootstrap confidence intervals of audit metrics: how much a number would move on another sample of items.

Percentile bootstrap over items (Efron & Tibshirani, "An Introduction to the Bootstrap", 1993, ch. 13): draw B
resamples of the N items with replacement (seeded), compute the metric on each, and report the (1 - level) / 2 and
(1 + level) / 2 percentiles of the B values (numpy's linear interpolation). Everything is vectorised: a statistic
takes (B, N) arrays, one resample per row, and returns (B,) values; resamples are processed in chunks of at most
CHUNK_ELEMENTS array entries so memory stays bounded for 5,000 items.

The batched metrics below equal the scalar ones of backend.analyses.calibration and error_detection applied to
each row (tested), with the same binning rules. Confidences are held fixed: a Platt map fitted on the audit is not
refitted per resample, so the interval is the sampling noise of the metric given those confidences.

A resample on which a metric is undefined (AUROC of a resample with no wrong item) gives NaN and is left out; the
interval is None when fewer than half of the resamples give a value.
"""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np
from scipy.stats import rankdata

DEFAULT_RESAMPLES = 1000
DEFAULT_LEVEL = 0.95
CHUNK_ELEMENTS = 2**21
NLL_FLOOR = 1e-12
Statistic = Callable[..., np.ndarray]


def resample_indices(n: int, n_resamples: int, seed: int) -> np.ndarray:
    """(B, N) item indices drawn uniformly with replacement, from numpy's default generator at this seed."""
    if n < 1 or n_resamples < 1:
        raise ValueError("the bootstrap needs at least one item and one resample")
    return np.random.default_rng(seed).integers(0, n, size=(n_resamples, n))


def percentile_interval(values: np.ndarray, level: float = DEFAULT_LEVEL) -> Optional[tuple[float, float]]:
    """(low, high) percentiles of the finite values (B,) at (1 - level) / 2 and (1 + level) / 2; None when fewer
    than half of them are finite."""
    if not 0.0 < level < 1.0:
        raise ValueError("the confidence level must be strictly between 0 and 1")
    finite = values[np.isfinite(values)]
    if finite.size * 2 < values.size or finite.size == 0:
        return None
    low, high = np.percentile(finite, [50 * (1 - level), 50 * (1 + level)])
    return float(low), float(high)


def bootstrap_interval(statistic: Statistic, *arrays: np.ndarray, n_resamples: int = DEFAULT_RESAMPLES,
                       level: float = DEFAULT_LEVEL, seed: int = 0) -> Optional[tuple[float, float]]:
    """Percentile interval of statistic over B resamples of the items; arrays are (N, ...) and resampled together
    (paired), statistic(*resampled) gets (B', N, ...) arrays and returns (B',)."""
    n = len(arrays[0])
    if any(len(a) != n for a in arrays):
        raise ValueError("every array needs one entry per item")
    indices = resample_indices(n, n_resamples, seed)
    width = int(np.prod(arrays[0].shape[1:], dtype=np.int64)) if arrays[0].ndim > 1 else 1
    chunk = max(1, CHUNK_ELEMENTS // (n * width))
    values = np.concatenate([np.asarray(statistic(*(a[indices[i:i + chunk]] for a in arrays)), dtype=np.float64)
                             for i in range(0, n_resamples, chunk)])
    return percentile_interval(values, level)


def _binned_gaps(conf: np.ndarray, hit: np.ndarray, index: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """(counts (B, M), |accuracy - mean confidence| (B, M), NaN in empty bins) from bin indices (B, N)."""
    rows, n = conf.shape
    flat = (index + n_bins * np.arange(rows)[:, None]).ravel()
    size = rows * n_bins
    counts = np.bincount(flat, minlength=size).reshape(rows, n_bins).astype(np.float64)
    total = np.bincount(flat, weights=(hit - conf).ravel(), minlength=size).reshape(rows, n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        return counts, np.abs(total / counts)


def _equal_width_index(conf: np.ndarray, n_bins: int) -> np.ndarray:
    """(B, N) equal-width bin of each confidence: [k/M, (k+1)/M), the last bin closed at 1."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return np.clip(np.searchsorted(edges, conf, side="right") - 1, 0, n_bins - 1)


def batched_ece(conf: np.ndarray, hit: np.ndarray, n_bins: int) -> np.ndarray:
    """(B,) equal-width ECE of each row of confidences and 0/1 labels (B, N)."""
    counts, gaps = _binned_gaps(conf, hit, _equal_width_index(conf, n_bins), n_bins)
    return np.nansum(counts * gaps, axis=1) / conf.shape[1]


def batched_mce(conf: np.ndarray, hit: np.ndarray, n_bins: int) -> np.ndarray:
    """(B,) equal-width MCE: the largest gap over each row's non-empty bins."""
    return np.nanmax(_binned_gaps(conf, hit, _equal_width_index(conf, n_bins), n_bins)[1], axis=1)


def batched_ace(conf: np.ndarray, hit: np.ndarray, n_bins: int) -> np.ndarray:
    """(B,) ACE: the mean gap over each row's non-empty equal-mass bins (edges at the row's own quantiles)."""
    edges = np.quantile(conf, np.linspace(0.0, 1.0, n_bins + 1), axis=1).T
    index = np.clip((conf[:, :, None] >= edges[:, None, 1:-1]).sum(axis=2), 0, n_bins - 1)
    return np.nanmean(_binned_gaps(conf, hit, index, n_bins)[1], axis=1)


def batched_brier(conf: np.ndarray, hit: np.ndarray) -> np.ndarray:
    """(B,) mean (c - y)^2 of each row."""
    return np.mean((conf - hit) ** 2, axis=1)


def batched_nll(conf: np.ndarray, hit: np.ndarray) -> np.ndarray:
    """(B,) mean binary NLL in nats, c clipped to [1e-12, 1 - 1e-12]."""
    c = np.clip(conf, NLL_FLOOR, 1.0 - NLL_FLOOR)
    return -np.mean(hit * np.log(c) + (1.0 - hit) * np.log1p(-c), axis=1)


def batched_mean(values: np.ndarray) -> np.ndarray:
    """(B,) mean of a per-item loss (B, N) (all-class Brier, all-class NLL)."""
    return np.mean(values, axis=1)


def batched_classwise_ece(probs: np.ndarray, labels: np.ndarray, n_bins: int, classes) -> np.ndarray:
    """(B,) class-wise ECE: mean over the given classes of the ECE of p_k (B, N, K) against 1[y = k] (B, N)."""
    return np.mean([batched_ece(probs[:, :, k], (labels == k).astype(np.float64), n_bins) for k in classes], axis=0)


def _uncertainty(score: np.ndarray, higher_is: str) -> np.ndarray:
    return -score if higher_is == "confident" else score


def batched_auroc(score: np.ndarray, hit: np.ndarray, higher_is: str) -> np.ndarray:
    """(B,) error AUROC (rank-sum form, ties count half); NaN for a row with no right or no wrong item."""
    wrong = hit == 0
    n_wrong, n_right = wrong.sum(axis=1), (~wrong).sum(axis=1)
    ranks = rankdata(_uncertainty(score, higher_is), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return ((ranks * wrong).sum(axis=1) - n_wrong * (n_wrong + 1) / 2) / (n_wrong * n_right)


def batched_auprc(score: np.ndarray, hit: np.ndarray, higher_is: str) -> np.ndarray:
    """(B,) average precision of finding the wrong items by descending uncertainty (precision taken at the end of
    each group of tied scores); NaN for a row with no wrong item."""
    u = _uncertainty(score, higher_is)
    order = np.argsort(-u, axis=1, kind="stable")
    sorted_u, wrong = np.take_along_axis(u, order, 1), 1.0 - np.take_along_axis(hit, order, 1)
    n = u.shape[1]
    positions = np.arange(n)
    is_end = np.c_[np.diff(sorted_u, axis=1) != 0, np.ones(len(u), dtype=bool)]
    group_end = np.minimum.accumulate(np.where(is_end, positions, n)[:, ::-1], axis=1)[:, ::-1]
    precision = np.cumsum(wrong, axis=1) / (positions + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (wrong * np.take_along_axis(precision, group_end, 1)).sum(axis=1) / wrong.sum(axis=1)


def batched_aurc(score: np.ndarray, hit: np.ndarray, higher_is: str) -> np.ndarray:
    """(B,) area under risk-coverage: mean over k of the error rate of the k least uncertain (stable order)."""
    order = np.argsort(_uncertainty(score, higher_is), axis=1, kind="stable")
    errors = 1.0 - np.take_along_axis(hit, order, 1)
    return np.mean(np.cumsum(errors, axis=1) / np.arange(1, hit.shape[1] + 1), axis=1)


def _rejection_area(uncertainty: np.ndarray, quality: np.ndarray) -> np.ndarray:
    """(B,) lm-polygraph's prediction rejection area of each row (numpy's default argsort, as there)."""
    kept = np.take_along_axis(quality, np.argsort(uncertainty, axis=1), 1)
    return np.mean(np.cumsum(kept, axis=1) / np.arange(1, quality.shape[1] + 1), axis=1)


def batched_prr(score: np.ndarray, hit: np.ndarray, higher_is: str) -> np.ndarray:
    """(B,) prediction rejection ratio with the exact random baseline (the mean quality); NaN for a row whose
    items are all right or all wrong."""
    random = hit.mean(axis=1)
    oracle = _rejection_area(-hit, hit)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (_rejection_area(_uncertainty(score, higher_is), hit) - random) / (oracle - random)
