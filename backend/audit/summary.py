"""Metrics of an audit from its finished items: calibration, error detection, recalibration, method agreement.

Confidences for ECE / MCE / ACE / Brier / NLL: a probability method's own score; any other score is mapped to a
probability by Platt scaling fitted out-of-fold (2 folds from the audit's seed: each half is mapped by the fit on
the other half), so no item is scored by a map fitted on itself. Temperature scaling of probability methods is
fitted on a seeded half and judged on the other half (ece_eval_before / ece_eval_after).

Classifier audits (digits, labelled images) also get, for softmax, the class-wise ECE averaged over the classes
that occur as true labels among the audited items (an image audit of 3 ImageNet classes averages those 3, not all
1000), and the all-class Brier score and NLL of the stored class probabilities (for images: the dataset's classes
plus one column for the model's other classes, see backend.audit.image_audit).

Every defined metric gets a 95 % percentile-bootstrap interval over the items (backend.analyses.bootstrap, 1000
resamples from the audit's seed; confidences held fixed), every None metric says why (MethodMetrics.undefined),
and small samples are flagged (MethodMetrics.warnings) under two sizes:
- fewer than MIN_ITEMS = 100 items: the standard error of a proportion is sqrt(p (1 - p) / N) <= 0.5 / sqrt(N), so
  below 100 items an accuracy (and so a calibration gap) has a 95 % half-width above 0.1, the size of the gaps
  ECE is meant to find;
- fewer than MIN_PER_BIN = 10 items per occupied equal-width bin on average: a bin's accuracy then has a standard
  error up to 0.16, so |accuracy - confidence| is mostly noise, and ECE, a sum of absolute gaps, is biased upward
  by it (MCE, the largest gap, most of all).
A temperature fitted on one half that does not lower the other half's ECE is flagged as untrustworthy.
"""
from __future__ import annotations

import math
from typing import Optional, Protocol, Sequence

import numpy as np
from scipy.stats import spearmanr

from backend.analyses import bootstrap as bs
from backend.analyses import calibration as cal
from backend.analyses import error_detection as ed
from backend.analyses import recalibration as rc
from backend.audit.methods import AuditMethod
from backend.schemas.audit import AuditItem, AuditMethodInfo, AuditResult, MethodMetrics

N_BINS = 10
FIT_FRACTION = 0.5
PLATT_SOURCE = "Platt scaling of the raw score, fitted out-of-fold (2 seeded folds)"
RAW_SOURCE = "the score itself (a probability)"
MIN_ITEMS = 100
MIN_PER_BIN = 10
CALIBRATION_KEYS = ("ece", "mce", "ace", "brier", "nll")
RANKING_KEYS = ("auroc", "auprc", "prr")
CLASS_KEYS = ("classwise_ece", "multiclass_brier", "multiclass_nll")
RECALIBRATION_FAILED = ("temperature scaling did not lower ECE on the held-out half; the fitted T is not "
                        "trustworthy at this size")


class Scored(Protocol):
    """What the metrics read of a unit: an audited item, or one labelled claim (backend.audit.claim_grading)."""

    scores: dict[str, Optional[float]]
    probs: Optional[list[float]]
    label: Optional[int]

    @property
    def is_correct(self) -> bool: ...


def _finite(value: float) -> Optional[float]:
    return float(value) if value is not None and math.isfinite(value) else None


def method_arrays(items: Sequence[Scored], name: str) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """(scores (M,), correctness (M,), item positions) over the items where the method has a value."""
    kept = [i for i, item in enumerate(items) if item.scores.get(name) is not None]
    scores = np.array([items[i].scores[name] for i in kept], dtype=np.float64)
    return scores, np.array([float(items[i].is_correct) for i in kept]), kept


def out_of_fold_platt(score: np.ndarray, correct: np.ndarray, higher_is: str, seed: int) -> Optional[np.ndarray]:
    """P(correct) for every item from a Platt map fitted on the other fold; None when a fold lacks both classes."""
    signed = score if higher_is == "confident" else -score
    first, second = rc.split_indices(len(score), FIT_FRACTION, seed)
    confidence = np.empty_like(signed)
    for fit, apply in ((first, second), (second, first)):
        if correct[fit].min() == correct[fit].max():
            return None
        confidence[apply] = rc.fit_platt(signed[fit], correct[fit])(signed[apply])
    return confidence


def calibration_confidence(method: AuditMethod | AuditMethodInfo, score: np.ndarray, correct: np.ndarray,
                           seed: int) -> tuple[Optional[np.ndarray], str]:
    """The confidences the calibration numbers use, and how they were made."""
    if method.is_probability:
        return np.clip(score, 0.0, 1.0), RAW_SOURCE
    if len(score) < 4:
        return None, "too few items for out-of-fold Platt scaling (need 4)"
    mapped = out_of_fold_platt(score, correct, method.higher_is, seed)
    return (mapped, PLATT_SOURCE) if mapped is not None else (None, "Platt scaling needs right and wrong items in "
                                                                    "each fold")


def temperature_check(confidence: np.ndarray, correct: np.ndarray, seed: int,
                      n_bins: int) -> tuple[Optional[float], Optional[float], Optional[float]]:
    """(T fitted on the fit half, ECE of the other half before, after) for a probability score."""
    if len(confidence) < 4:
        return None, None, None
    fit, evaluate = rc.split_indices(len(confidence), FIT_FRACTION, seed)
    temperature = rc.fit_binary_temperature(confidence[fit], correct[fit])
    before = cal.expected_calibration_error(confidence[evaluate], correct[evaluate], n_bins)
    after = cal.expected_calibration_error(rc.apply_binary_temperature(confidence[evaluate], temperature),
                                           correct[evaluate], n_bins)
    return temperature, before, after


def metric_intervals(method: AuditMethod, score: np.ndarray, correct: np.ndarray, confidence: Optional[np.ndarray],
                     seed: int, n_bins: int) -> dict[str, list[float]]:
    """[low, high] 95 % bootstrap intervals of the ranking metrics of the raw scores (N,) and, given confidences
    (N,), of the calibration metrics; a metric undefined on most resamples has none."""
    direction = method.higher_is
    statistics: dict[str, tuple] = {
        "auroc": (lambda s, y: bs.batched_auroc(s, y, direction), score, correct),
        "auprc": (lambda s, y: bs.batched_auprc(s, y, direction), score, correct),
        "aurc": (lambda s, y: bs.batched_aurc(s, y, direction), score, correct),
        "prr": (lambda s, y: bs.batched_prr(s, y, direction), score, correct)}
    if confidence is not None:
        statistics.update(ece=(lambda c, y: bs.batched_ece(c, y, n_bins), confidence, correct),
                          mce=(lambda c, y: bs.batched_mce(c, y, n_bins), confidence, correct),
                          ace=(lambda c, y: bs.batched_ace(c, y, n_bins), confidence, correct),
                          brier=(bs.batched_brier, confidence, correct), nll=(bs.batched_nll, confidence, correct))
    intervals = {}
    for name, (statistic, *arrays) in statistics.items():
        interval = bs.bootstrap_interval(statistic, *arrays, seed=seed)
        if interval is not None:
            intervals[name] = list(interval)
    return intervals


def class_intervals(probs: np.ndarray, labels: np.ndarray, seed: int, n_bins: int) -> dict[str, list[float]]:
    """Bootstrap intervals of class-wise ECE and the all-class Brier / NLL of probs (N, K) and labels (N,)."""
    classes = np.unique(labels)
    onehot = np.eye(probs.shape[1])[labels]
    losses = {"multiclass_brier": np.sum((probs - onehot) ** 2, axis=1),
              "multiclass_nll": -np.log(np.maximum(probs[np.arange(len(labels)), labels], cal.NLL_FLOOR))}
    intervals = {name: bs.bootstrap_interval(bs.batched_mean, loss, seed=seed) for name, loss in losses.items()}
    intervals["classwise_ece"] = bs.bootstrap_interval(
        lambda p, y: bs.batched_classwise_ece(p, y, n_bins, classes), probs, labels, seed=seed)
    return {name: list(value) for name, value in intervals.items() if value is not None}


def undefined_reasons(values: dict, correct: np.ndarray, source: str, has_classes: bool) -> dict[str, str]:
    """Why each None metric is None, in words a person can act on."""
    reasons = {}
    one_class = "every item is right" if correct.min() == 1 else "every item is wrong" if correct.max() == 0 else ""
    for key in CALIBRATION_KEYS:
        if values.get(key) is None:
            reasons[key] = f"{source}{f' ({one_class})' if one_class else ''}"
    for key in RANKING_KEYS:
        if values.get(key) is None:
            reasons[key] = (f"{one_class}: there are no right and wrong answers to tell apart" if one_class else
                            "undefined for these scores")
    if has_classes:
        for key in CLASS_KEYS:
            if values.get(key) is None:
                reasons[key] = "only softmax keeps the class probabilities these need"
    return reasons


def size_warnings(n: int, confidence: Optional[np.ndarray], n_bins: int) -> list[str]:
    """Caveats on the sample size (see the module docstring for the two thresholds)."""
    warnings = []
    if n < MIN_ITEMS:
        warnings.append(f"only {n} items: below {MIN_ITEMS} a 95 % interval of an accuracy is wider than ±0.1 "
                        f"(±{1.96 * 0.5 / math.sqrt(n):.2f} at 50 %), so read the intervals, not the digits")
    if confidence is not None:
        occupied = len(np.unique(cal.assign_bins(confidence, cal.equal_width_edges(n_bins))))
        if n < MIN_PER_BIN * occupied:
            warnings.append(f"ECE / MCE from {n} confidences in {occupied} occupied bins ({n / occupied:.1f} a bin, "
                            f"fewer than {MIN_PER_BIN}): a bin's accuracy is then too noisy (standard error up to "
                            f"{0.5 / math.sqrt(max(n / occupied, 1)):.2f}) and ECE is biased upward")
    return warnings


def method_metrics(method: AuditMethod, items: Sequence[Scored], seed: int, n_bins: int = N_BINS) -> MethodMetrics:
    """Every number of one method over the items (or claims) that have its score."""
    score, correct, kept = method_arrays(items, method.name)
    empty = dict(ece=None, mce=None, ace=None, brier=None, nll=None, auroc=None, auprc=None, aurc=None, prr=None)
    if len(score) == 0:
        return MethodMetrics(n=0, higher_is=method.higher_is, confidence_source="no item has this score", **empty)
    confidence, source = calibration_confidence(method, score, correct, seed)
    values = dict(empty)
    values.update(auroc=_finite(ed.error_auroc(score, correct, method.higher_is)),
                  auprc=_finite(ed.error_auprc(score, correct, method.higher_is)),
                  aurc=ed.risk_coverage(score, correct, method.higher_is).aurc,
                  prr=_finite(ed.prediction_rejection_ratio(score, correct, method.higher_is)))
    if confidence is not None:
        values.update(ece=cal.expected_calibration_error(confidence, correct, n_bins),
                      mce=cal.maximum_calibration_error(confidence, correct, n_bins),
                      ace=cal.adaptive_calibration_error(confidence, correct, n_bins),
                      brier=cal.brier_score(confidence, correct),
                      nll=cal.negative_log_likelihood(confidence, correct))
    extra = {}
    if method.is_probability and confidence is not None:
        extra = dict(zip(("temperature", "ece_eval_before", "ece_eval_after"),
                         temperature_check(confidence, correct, seed, n_bins)))
    ci = metric_intervals(method, score, correct, confidence, seed, n_bins)
    warnings = size_warnings(len(score), confidence, n_bins)
    if extra.get("ece_eval_after") is not None and extra["ece_eval_after"] >= extra["ece_eval_before"]:
        warnings.append(RECALIBRATION_FAILED)
    probs = [items[i].probs for i in kept]
    has_classes = all(p is not None for p in probs)
    if method.name == "softmax" and has_classes:
        labels, matrix = np.array([items[i].label for i in kept]), np.array(probs)
        extra.update(classwise_ece=cal.classwise_ece(matrix, labels, n_bins, classes=np.unique(labels)),
                     multiclass_brier=cal.multiclass_brier_score(matrix, labels),
                     multiclass_nll=cal.multiclass_nll(matrix, labels))
        ci.update(class_intervals(matrix, labels, seed, n_bins))
    undefined = undefined_reasons({**values, **extra}, correct, source, has_classes)
    return MethodMetrics(n=len(score), higher_is=method.higher_is, confidence_source=source, **values, **extra,
                         ci=ci, undefined=undefined, warnings=warnings)


def rank_correlations(items: Sequence[AuditItem], names: Sequence[str]) -> dict[str, dict[str, Optional[float]]]:
    """Spearman rho between every pair of methods' scores over the items where both have one (None if < 3)."""
    table: dict[str, dict[str, Optional[float]]] = {}
    for a in names:
        table[a] = {}
        for b in names:
            both = [i for i in items if i.scores.get(a) is not None and i.scores.get(b) is not None]
            if len(both) < 3:
                table[a][b] = None
                continue
            rho = spearmanr([i.scores[a] for i in both], [i.scores[b] for i in both]).statistic
            table[a][b] = _finite(float(rho))
    return table


def confidences_of(method: AuditMethod | AuditMethodInfo, items: Sequence[AuditItem],
                   seed: int) -> tuple[Optional[np.ndarray], np.ndarray, list[int], str]:
    """(confidences or None, correctness, item positions, how the confidences were made) as the metrics use them."""
    score, correct, kept = method_arrays(items, method.name)
    if len(score) == 0:
        return None, correct, kept, "no item has this score"
    confidence, source = calibration_confidence(method, score, correct, seed)
    return confidence, correct, kept, source


def accuracy(items: Sequence[AuditItem]) -> float:
    """Share of items judged right (a person's override wins); NaN-free: 0 for no items."""
    return float(np.mean([i.is_correct for i in items])) if items else 0.0


def caveats_by_text(result: AuditResult) -> dict[str, list[str]]:
    """Every method's caveat (warning) text, each once, with the methods it applies to, in the methods' order."""
    methods: dict[str, list[str]] = {}
    for name, metrics in result.metrics.items():
        for warning in metrics.warnings:
            methods.setdefault(warning, []).append(name)
    return methods
