"""Recalibration: map scores to better-calibrated probabilities, fitted on one split and applied to another.

- Temperature scaling (Guo et al., "On Calibration of Modern Neural Networks", ICML 2017): softmax(z / T) for
  logits z (N, K), or sigmoid(logit(c) / T) for a binary confidence c; one parameter T > 0 fitted by minimising
  the NLL (nats) of the fit split. T > 1 softens (the model was over-confident), T < 1 sharpens.
- Platt scaling (Platt, "Probabilistic Outputs for Support Vector Machines", 1999): sigmoid(a s + b) for any
  real score s, fitted by maximum likelihood; turns unbounded scores (log-likelihoods, entropies) into
  probabilities.
- Isotonic regression (Zadrozny & Elkan, KDD 2002): the best non-decreasing step map of the score to a
  probability (scikit-learn's IsotonicRegression, scores outside the fit range clipped to its ends).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize, minimize_scalar
from scipy.special import expit, log_softmax, logit
from sklearn.isotonic import IsotonicRegression

LOG_T_RANGE = (-5.0, 5.0)
PROB_FLOOR = 1e-12


def split_indices(n: int, fit_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded random split of range(n) into (fit, evaluate) index arrays, each sorted; both non-empty for n >= 2."""
    if n < 2:
        raise ValueError("recalibration needs at least 2 items: one to fit on and one to evaluate")
    if not 0.0 < fit_fraction < 1.0:
        raise ValueError("the fit fraction must be strictly between 0 and 1")
    order = np.random.default_rng(seed).permutation(n)
    n_fit = min(n - 1, max(1, round(n * fit_fraction)))
    return np.sort(order[:n_fit]), np.sort(order[n_fit:])


def softmax_nll(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    """Mean -ln softmax(z / T)_y in nats; logits (N, K), labels (N,)."""
    logp = log_softmax(np.asarray(logits, dtype=np.float64) / temperature, axis=1)
    return float(-np.mean(logp[np.arange(len(labels)), labels]))


def fit_temperature(logits, labels) -> float:
    """T minimising softmax_nll on (logits (N, K), labels (N,)); searched over ln T in [-5, 5] (bounded Brent)."""
    z, y = np.asarray(logits, dtype=np.float64), np.asarray(labels).astype(np.int64)
    result = minimize_scalar(lambda log_t: softmax_nll(z, y, float(np.exp(log_t))), bounds=LOG_T_RANGE,
                             method="bounded", options={"xatol": 1e-8})
    return float(np.exp(result.x))


def binary_logits(confidence) -> np.ndarray:
    """logit(c) (N,) of confidences in [0, 1], clipped to [1e-12, 1 - 1e-12] so 0 and 1 stay finite."""
    return logit(np.clip(np.asarray(confidence, dtype=np.float64), PROB_FLOOR, 1.0 - PROB_FLOOR))


def fit_binary_temperature(confidence, correct) -> float:
    """T for sigmoid(logit(c) / T): temperature scaling of a top-label confidence against correctness."""
    z = binary_logits(confidence)
    two_class = np.stack([np.zeros_like(z), z], axis=1)
    return fit_temperature(two_class, np.asarray(correct).astype(np.int64))


def apply_binary_temperature(confidence, temperature: float) -> np.ndarray:
    """sigmoid(logit(c) / T) (N,)."""
    return expit(binary_logits(confidence) / temperature)


@dataclass(frozen=True)
class PlattMap:
    """p = sigmoid(slope * score + intercept)."""

    slope: float
    intercept: float

    def __call__(self, score) -> np.ndarray:
        return expit(self.slope * np.asarray(score, dtype=np.float64) + self.intercept)


def fit_platt(score, correct) -> PlattMap:
    """Maximum-likelihood (slope, intercept) on raw 0/1 targets (no Platt target smoothing), by BFGS from (0, 0).

    Scores are standardised for the fit and the map is expressed on the raw scale."""
    s = np.asarray(score, dtype=np.float64)
    y = np.asarray(correct, dtype=np.float64)
    centre, scale = float(s.mean()), float(s.std()) or 1.0
    u = (s - centre) / scale

    def nll(params: np.ndarray) -> float:
        z = params[0] * u + params[1]
        return float(np.mean(np.logaddexp(0.0, z) - y * z))

    a, b = minimize(nll, np.zeros(2), method="BFGS", options={"gtol": 1e-10}).x
    return PlattMap(slope=float(a / scale), intercept=float(b - a * centre / scale))


def fit_isotonic(score, correct) -> IsotonicRegression:
    """A non-decreasing map score -> P(correct) (for scores where higher means more confident)."""
    model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    model.fit(np.asarray(score, dtype=np.float64), np.asarray(correct, dtype=np.float64))
    return model
