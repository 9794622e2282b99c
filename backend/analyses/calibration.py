"""Calibration metrics: does a model's stated confidence match how often it is right?

Inputs are a confidence c_i in [0, 1] and a correctness label y_i in {0, 1} per item (top-label confidence: the
probability the model gives its own answer), or for class-wise metrics the full probability vectors (N, K) and
labels (N,).

Binning (every function names its scheme):
- equal-width: M bins with edges k/M; bin k holds [k/M, (k+1)/M), the last bin is closed, [(M-1)/M, 1], so a
  confidence of exactly 1 falls in the last bin and exactly 0 in the first. This is netcal's binning (numpy
  histogram edges); torchmetrics instead puts c = 1 in an extra bin of its own (see the tests).
- equal-mass: edges at the linear-interpolation quantiles of the confidences at k/M (numpy's default), the
  first edge set to 0 and the last to 1, then the same half-open rule; ties can leave some bins with more items.
Empty bins are skipped by every metric and shown with count 0.

References: ECE and MCE, Naeini, Cooper & Hauskrecht, "Obtaining Well Calibrated Probabilities Using Bayesian
Binning" (AAAI 2015) and Guo et al., "On Calibration of Modern Neural Networks" (ICML 2017); ACE, Nixon et al.,
"Measuring Calibration in Deep Learning" (CVPR Workshops 2019); class-wise ECE, Kull et al., "Beyond temperature
scaling" (NeurIPS 2019); Brier score, Brier (Monthly Weather Review 1950).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional, Sequence

import numpy as np

Binning = Literal["equal_width", "equal_mass"]
NLL_FLOOR = 1e-12


@dataclass(frozen=True)
class ReliabilityBins:
    """A reliability diagram's numbers. Arrays have one entry per bin (M,); edges (M + 1,).

    mean_confidence and accuracy are NaN in empty bins; gap = accuracy - mean_confidence (negative: over-confident).
    """

    scheme: Binning
    edges: np.ndarray
    counts: np.ndarray
    mean_confidence: np.ndarray
    accuracy: np.ndarray

    @property
    def gap(self) -> np.ndarray:
        return self.accuracy - self.mean_confidence

    @property
    def nonempty(self) -> np.ndarray:
        return self.counts > 0


def check_inputs(confidence, correct) -> tuple[np.ndarray, np.ndarray]:
    """confidence (N,) in [0, 1] and correct (N,) in {0, 1} as float64 arrays; ValueError names what is wrong."""
    conf = np.asarray(confidence, dtype=np.float64).reshape(-1)
    hit = np.asarray(correct, dtype=np.float64).reshape(-1)
    if conf.shape != hit.shape:
        raise ValueError(f"{conf.size} confidences but {hit.size} correctness labels")
    if conf.size == 0:
        raise ValueError("no items: calibration needs at least one confidence and label")
    if not np.all(np.isfinite(conf)) or conf.min() < 0 or conf.max() > 1:
        raise ValueError("confidences must be finite numbers in [0, 1]")
    if not np.all((hit == 0) | (hit == 1)):
        raise ValueError("correctness labels must be 0 or 1")
    return conf, hit


def equal_width_edges(n_bins: int) -> np.ndarray:
    """(n_bins + 1,) edges 0, 1/M, ..., 1."""
    if n_bins < 1:
        raise ValueError("the number of bins must be at least 1")
    return np.linspace(0.0, 1.0, n_bins + 1)


def equal_mass_edges(confidence: np.ndarray, n_bins: int) -> np.ndarray:
    """(n_bins + 1,) edges at the confidences' quantiles k/M (linear interpolation), first 0 and last 1."""
    edges = np.quantile(np.asarray(confidence, dtype=np.float64), equal_width_edges(n_bins))
    edges[0], edges[-1] = 0.0, 1.0
    return edges


def assign_bins(confidence: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """(N,) bin index of each confidence: bin k holds [edges[k], edges[k+1]), the last bin also holds edges[-1]."""
    index = np.searchsorted(edges, confidence, side="right") - 1
    return np.clip(index, 0, len(edges) - 2)


def reliability_bins(confidence, correct, n_bins: int = 15, scheme: Binning = "equal_width") -> ReliabilityBins:
    """Counts, mean confidence and accuracy per bin for a reliability diagram."""
    conf, hit = check_inputs(confidence, correct)
    edges = equal_width_edges(n_bins) if scheme == "equal_width" else equal_mass_edges(conf, n_bins)
    index = assign_bins(conf, edges)
    counts = np.bincount(index, minlength=n_bins).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(index, weights=conf, minlength=n_bins) / counts
        accuracy = np.bincount(index, weights=hit, minlength=n_bins) / counts
    return ReliabilityBins(scheme, edges, counts.astype(np.int64), mean_conf, accuracy)


def expected_calibration_error(confidence, correct, n_bins: int = 15, scheme: Binning = "equal_width") -> float:
    """ECE = sum_k (n_k / N) |acc_k - conf_k| over non-empty bins; in [0, 1], 0 = calibrated."""
    bins = reliability_bins(confidence, correct, n_bins, scheme)
    keep = bins.nonempty
    return float(np.sum(bins.counts[keep] / bins.counts.sum() * np.abs(bins.gap[keep])))


def maximum_calibration_error(confidence, correct, n_bins: int = 15, scheme: Binning = "equal_width") -> float:
    """MCE = max_k |acc_k - conf_k| over non-empty bins; in [0, 1]."""
    bins = reliability_bins(confidence, correct, n_bins, scheme)
    return float(np.max(np.abs(bins.gap[bins.nonempty])))


def adaptive_calibration_error(confidence, correct, n_bins: int = 15) -> float:
    """ACE = unweighted mean of |acc_k - conf_k| over the non-empty equal-mass bins (Nixon et al. 2019, top-label)."""
    bins = reliability_bins(confidence, correct, n_bins, "equal_mass")
    return float(np.mean(np.abs(bins.gap[bins.nonempty])))


def brier_score(confidence, correct) -> float:
    """Mean (c_i - y_i)^2 of the top-label confidence; in [0, 1], 0 = perfect."""
    conf, hit = check_inputs(confidence, correct)
    return float(np.mean((conf - hit) ** 2))


def negative_log_likelihood(confidence, correct) -> float:
    """Mean -[y ln c + (1 - y) ln(1 - c)] in nats, with c clipped to [1e-12, 1 - 1e-12] so 0 and 1 stay finite."""
    conf, hit = check_inputs(confidence, correct)
    clipped = np.clip(conf, NLL_FLOOR, 1.0 - NLL_FLOOR)
    return float(-np.mean(hit * np.log(clipped) + (1.0 - hit) * np.log1p(-clipped)))


def check_probabilities(probs, labels) -> tuple[np.ndarray, np.ndarray]:
    """probs (N, K) rows summing to 1 and labels (N,) in 0..K-1, as arrays."""
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(labels).reshape(-1)
    if p.ndim != 2 or p.shape[0] != y.size or p.shape[0] == 0:
        raise ValueError(f"probabilities must be (N, K) with one label per row; got {p.shape} and {y.size} labels")
    if not np.all(np.isfinite(p)) or p.min() < 0 or not np.allclose(p.sum(axis=1), 1.0, atol=1e-6):
        raise ValueError("each row of probabilities must be finite, non-negative and sum to 1")
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= p.shape[1]:
        raise ValueError(f"labels must be integers from 0 to {p.shape[1] - 1}")
    return p, y


def top_label(probs, labels) -> tuple[np.ndarray, np.ndarray]:
    """Top-label confidence max_k p_ik (N,) and correctness 1[argmax_k p_ik = y_i] (N,)."""
    p, y = check_probabilities(probs, labels)
    return p.max(axis=1), (p.argmax(axis=1) == y).astype(np.float64)


def classwise_ece(probs, labels, n_bins: int = 15, scheme: Binning = "equal_width",
                  classes: Optional[Sequence[int]] = None) -> float:
    """Class-wise ECE (Kull et al. 2019): the mean over the classes of the ECE of p_ik against 1[y_i = k].

    classes: the column indices averaged over (default all K columns of probs (N, K))."""
    p, y = check_probabilities(probs, labels)
    columns = range(p.shape[1]) if classes is None else classes
    return float(np.mean([expected_calibration_error(p[:, k], (y == k).astype(np.float64), n_bins, scheme)
                          for k in columns]))


def multiclass_brier_score(probs, labels) -> float:
    """Mean over items of sum_k (p_ik - 1[y_i = k])^2 (Brier 1950); in [0, 2]."""
    p, y = check_probabilities(probs, labels)
    onehot = np.eye(p.shape[1])[y]
    return float(np.mean(np.sum((p - onehot) ** 2, axis=1)))


def multiclass_nll(probs, labels) -> float:
    """Mean -ln p_{i, y_i} in nats, p floored at 1e-12."""
    p, y = check_probabilities(probs, labels)
    return float(-np.mean(np.log(np.maximum(p[np.arange(y.size), y], NLL_FLOOR))))
