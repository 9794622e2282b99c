"""Selective answering with a guarantee: answer only when a score passes a threshold certified by Learn-Then-Test.

Inputs: a score per item (N,) in the method's own units, correctness (N,) in {0, 1}, the score's direction
(higher_is "confident": a probability, a log-likelihood; or "uncertain": an entropy), a target error rate alpha and
a confidence 1 - delta. Answering at threshold t means answering the items whose score is at or past t (score >= t
for a confident score, score <= t for an uncertain one) and abstaining on the rest.

What is controlled is the selective risk R(t) = P(wrong | answered at t): with probability at least 1 - delta over
the draw of the calibration items, R(t) <= alpha at the chosen t. Procedure (Angelopoulos, Bates, Candès, Jordan &
Lei, "Learn then Test: Calibrating Predictive Algorithms to Achieve Risk Control", 2021):

1. A seeded split of the items into a calibration part and a held-out part (backend.analyses.recalibration's
   split_indices: the same split as the recalibration tab at the same seed and fraction).
2. Candidate thresholds: the distinct calibration scores, ordered from the strictest (fewest answered) to the most
   lenient. The order comes from the scores alone, never from the labels.
3. For a threshold answering n calibration items of which k are wrong, the null hypothesis H_t: R(t) > alpha has
   the exact binomial p-value p_t = P(Binomial(n, alpha) <= k): given n, the answered items' errors are i.i.d.
   Bernoulli(R(t)) for exchangeable items, and the tail is largest at R(t) = alpha.
4. Fixed-sequence testing: reject H_t in that order while p_t <= delta, and stop at the first p_t > delta. This
   controls the family-wise error at delta for any order fixed without the labels (no Bonferroni split of delta),
   so with probability >= 1 - delta every rejected threshold, the chosen one included, has R(t) <= alpha.
   Thresholds answering fewer than min_answered(alpha, delta) items are skipped: with n items the p-value is at
   least (1 - alpha)^n > delta whatever the labels, so they could never be rejected (and which ones they are
   depends on the scores only).
5. The chosen threshold is the most lenient rejected one: the largest coverage certified.

The candidates are the calibration scores themselves (their labels unused): the items at or above the k-th largest
of N exchangeable scores are, given the next score down, a sample of those above it, so each binomial law holds
(for a score whose error rate falls as it grows, the boundary item makes the test conservative). The guarantee is
checked empirically over 300 seeded draws of a dataset with a known error rate at every score
(tests/backend/decisions/test_selective.py). Fixed-sequence testing stops at the first threshold that fails, so a
wrong answer among the first min_answered most confident calibration items ends the search at once: the refusal
then says so, with its numbers.

Conformal risk control (Angelopoulos, Bates, Fisch, Lei & Schuster 2022) bounds the expectation of a loss that is
monotone in the threshold; the selective risk is a ratio that need not be monotone, and a 1 - delta guarantee is
asked for, so Learn-Then-Test is used.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
from scipy.stats import beta as beta_distribution
from scipy.stats import binom

from backend.analyses.error_detection import Direction, uncertainty_of
from backend.analyses.recalibration import split_indices
from backend.schemas.selective import SelectiveDecision

PROCEDURE = ("Learn-Then-Test (Angelopoulos, Bates, Candès, Jordan & Lei 2021): the candidate thresholds are the "
             "calibration scores, tested from the strictest to the most lenient (an order fixed by the scores, never "
             "the labels; those answering too few items to ever pass are skipped); each null hypothesis 'more than "
             "alpha of the answers given are wrong' gets the exact binomial p-value P(Binomial(answered, alpha) <= "
             "wrong); fixed-sequence testing rejects while p <= delta and stops at the first that is not; the most "
             "lenient rejected threshold is used")
ASSUMPTION = ("Exchangeable items: the audited items and new ones come independently from one and the same "
              "distribution (or are at least exchangeable), so the calibration split is a random sample of what comes "
              "next. The guarantee is over the draw of the calibration items; it does not carry over to other kinds "
              "of questions, another model, prompt or decoding settings, or to items picked after seeing their "
              "scores. A person's override of an item's grading counts as its label.")


def percent(rate: float) -> str:
    """A rate in [0, 1] as a percentage for sentences: 0.1 -> '10 %', 0.025 -> '2.5 %'."""
    return f"{100 * rate:.4g} %"


def binomial_p_value(errors, answered, alpha: float) -> np.ndarray:
    """P(Binomial(answered, alpha) <= errors), elementwise: the exact p-value of 'the error rate of the answers
    given exceeds alpha' after seeing `errors` wrong among `answered` (integer arrays of one shape)."""
    return binom.cdf(np.asarray(errors), np.asarray(answered), alpha)


def error_upper_bound(errors, answered, delta: float) -> np.ndarray:
    """One-sided Clopper-Pearson upper bound at confidence 1 - delta on the error rate, elementwise: the u with
    P(Binomial(answered, u) <= errors) = delta (1 where every answer is wrong). A single threshold's p-value is
    <= delta exactly when this bound is <= alpha; answered must be >= 1."""
    k, n = np.asarray(errors, dtype=np.float64), np.asarray(answered, dtype=np.float64)
    all_wrong = k >= n
    bound = beta_distribution.ppf(1.0 - delta, k + 1.0, np.where(all_wrong, 1.0, n - k))
    return np.where(all_wrong, 1.0, bound)


def min_answered(alpha: float, delta: float) -> int:
    """Fewest answered items with which an error rate <= alpha can be certified at confidence 1 - delta: with no
    wrong answer the p-value is (1 - alpha)^n, so n >= log(delta) / log(1 - alpha), rounded up (checked against
    binomial_p_value itself, so the two never disagree at the boundary)."""
    n = max(1, math.ceil(math.log(delta) / math.log1p(-alpha)))
    while binomial_p_value(0, n, alpha) > delta:
        n += 1
    while n > 1 and binomial_p_value(0, n - 1, alpha) <= delta:
        n -= 1
    return n


def _labels(correct, size: int) -> np.ndarray:
    hit = np.asarray(correct, dtype=np.float64).reshape(-1)
    if hit.size != size:
        raise ValueError(f"{size} scores but {hit.size} correctness labels")
    if not np.all((hit == 0) | (hit == 1)):
        raise ValueError("correctness labels must be 0 or 1")
    return hit


@dataclass(frozen=True)
class Candidates:
    """Every distinct threshold of one split, strictest first. Arrays (T,): the threshold in the score's units,
    how many items it answers (score at or past it) and how many of those are wrong."""

    threshold: np.ndarray
    answered: np.ndarray
    errors: np.ndarray


def candidates(score, correct, higher_is: Direction) -> Candidates:
    """The candidate thresholds of scores (N,) and correctness (N,): the distinct scores from the most confident
    down; tied scores are answered together."""
    confidence = -uncertainty_of(score, higher_is)
    wrong = 1.0 - _labels(correct, confidence.size)
    order = np.argsort(-confidence, kind="stable")
    ranked = confidence[order]
    last_of_tie = np.r_[ranked[1:] != ranked[:-1], True] if ranked.size else np.zeros(0, dtype=bool)
    answered = np.arange(1, ranked.size + 1)[last_of_tie]
    errors = np.cumsum(wrong[order]).round().astype(np.int64)[last_of_tie]
    sign = 1.0 if higher_is == "confident" else -1.0
    return Candidates(sign * ranked[last_of_tie], answered, errors)


def answers(score, threshold: float, higher_is: Direction) -> np.ndarray:
    """(N,) bool: which items are answered at this threshold (score >= t when higher is confident, <= t else)."""
    values = np.asarray(score, dtype=np.float64)
    return values >= threshold if higher_is == "confident" else values <= threshold


@dataclass(frozen=True)
class Certification:
    """The fixed sequence over the candidates: p-values (T,), the first testable candidate, the chosen one (the
    last rejected; None when none was) and how many were tested (the failing one included)."""

    candidates: Candidates
    p_values: np.ndarray
    first: Optional[int]
    chosen: Optional[int]
    tested: int


def learn_then_test(score, correct, higher_is: Direction, alpha: float, delta: float) -> Certification:
    """Learn-Then-Test with fixed-sequence testing over calibration scores (N,) and correctness (N,) (see the
    module docstring)."""
    found = candidates(score, correct, higher_is)
    p_values = binomial_p_value(found.errors, found.answered, alpha)
    testable = np.flatnonzero(found.answered >= min_answered(alpha, delta))
    if testable.size == 0:
        return Certification(found, p_values, None, None, 0)
    first = int(testable[0])
    failing = np.flatnonzero(p_values[first:] > delta)
    stop = first + int(failing[0]) if failing.size else len(p_values)
    tested = stop - first + (1 if failing.size else 0)
    return Certification(found, p_values, first, stop - 1 if stop > first else None, tested)


def items_needed(needed: int, fraction: float) -> int:
    """Fewest items whose calibration split (split_indices: round(n * fraction) items, at least one on each side)
    holds at least `needed` items."""
    n = max(2, math.floor(needed / fraction))
    while min(n - 1, max(1, round(n * fraction))) < needed:
        n += 1
    return n


def level_refusal(alpha: float, delta: float, fraction: float) -> Optional[str]:
    """Why alpha, delta or the calibration fraction cannot be used (each must lie strictly between 0 and 1)."""
    checks = ((alpha, "alpha", "the error rate the answers given may have, e.g. 0.1 for at most 10 % wrong"),
              (delta, "delta", "the chance the guarantee fails, e.g. 0.1 for a guarantee with 90 % probability"),
              (fraction, "the calibration fraction", "the share of the items the threshold is chosen on, e.g. 0.5"))
    for value, name, meaning in checks:
        if not (math.isfinite(value) and 0.0 < value < 1.0):
            return f"{name} must be strictly between 0 and 1 (got {value:g}): it is {meaning}"
    return None


def one_class_refusal(hit: np.ndarray, method: str, alpha: float) -> Optional[str]:
    """Why items that are all right, or all wrong, allow no threshold."""
    if hit.min() == 1:
        return (f"every one of the {hit.size} items is right (one class only): there is no wrong answer for a "
                f"threshold to hold back, so whether {method} tells right answers from wrong ones cannot be checked; "
                f"audit items the model also gets wrong")
    if hit.max() == 0:
        return (f"every one of the {hit.size} items is wrong (one class only): no threshold can keep the error of "
                f"the answers given under {percent(alpha)}; audit items the model also gets right, or abstain always")
    return None


def rule(method: str, threshold: float, higher_is: Direction) -> str:
    """The answering rule in words: 'mean_logprob >= -0.42'."""
    return f"{method} {'>=' if higher_is == 'confident' else '<='} {threshold:.6g}"


def guarantee_text(alpha: float, delta: float, answer_if: str, n_calibration: int, noun: str) -> str:
    """The guarantee in words, with the numbers and what it rests on."""
    return (f"On new {noun} like these, at most {percent(alpha)} of the answers given will be wrong, with "
            f"{percent(1 - delta)} probability, when answering only if {answer_if} and abstaining otherwise. The "
            f"probability is over the draw of the {n_calibration} calibration items, and it holds if new {noun} "
            f"are exchangeable with the audited ones.")


def uncertified_refusal(run: Certification, method: str, higher_is: Direction, alpha: float, delta: float,
                        n_calibration: int, fraction: float) -> str:
    """Why the fixed sequence certified nothing: too few calibration items, or the strictest testable threshold
    already fails."""
    needed = min_answered(alpha, delta)
    level = f"under {percent(alpha)} with {percent(1 - delta)} confidence"
    if run.first is None:
        return (f"with {n_calibration} calibration items no threshold can be shown to keep the error {level}: even "
                f"with no wrong answer that needs at least {needed} answered items; audit more items (at least "
                f"{items_needed(needed, fraction)} at a calibration fraction of {fraction:g}) or raise alpha (or "
                f"delta)")
    found, first = run.candidates, run.first
    answered, errors = int(found.answered[first]), int(found.errors[first])
    return (f"no threshold can be shown to keep the error {level}: the strictest threshold with enough answers "
            f"({rule(method, float(found.threshold[first]), higher_is)}, answering {answered} of {n_calibration} "
            f"calibration items) already has {errors} wrong ({errors / answered:.1%}; binomial p = "
            f"{float(run.p_values[first]):.3f} > delta = {delta:g}); raise alpha or delta, audit more items, or use "
            f"a score that ranks the wrong answers lower")


def selective_decision(score, correct, higher_is: Direction, alpha: float, delta: float, *, method: str, seed: int,
                       calibration_fraction: float = 0.5, item_indices: Optional[Sequence[int]] = None,
                       noun: str = "questions") -> SelectiveDecision:
    """Split the items (seeded), certify a threshold on the calibration part with Learn-Then-Test, and report what
    it does on both parts, or why no threshold can be given. score (N,) in the method's units, correct (N,) in
    {0, 1}; item_indices (N,) name the items in the split (positions 0..N-1 when None); noun is what the items
    are in the guarantee ("questions", "images")."""
    values = np.asarray(score, dtype=np.float64).reshape(-1)
    hit = _labels(correct, values.size)
    indices = np.arange(values.size) if item_indices is None else np.asarray(item_indices, dtype=np.int64)
    base = dict(method=method, higher_is=higher_is, alpha=alpha, delta=delta, procedure=PROCEDURE,
                assumption=ASSUMPTION, seed=seed, calibration_fraction=calibration_fraction, calibration_indices=[],
                held_out_indices=[], n_calibration=0, n_held_out=0, min_answered=0)
    refused = level_refusal(alpha, delta, calibration_fraction)
    if refused:
        return SelectiveDecision(**base, refused=refused)
    base["min_answered"] = min_answered(alpha, delta)
    if values.size == 0:
        return SelectiveDecision(**base, refused=f"no item has a {method} score")
    if not np.all(np.isfinite(values)):
        return SelectiveDecision(**base, refused=f"{int(np.sum(~np.isfinite(values)))} of the {method} scores are "
                                                 f"not finite numbers (NaN or infinite): fix or drop those items")
    refused = one_class_refusal(hit, method, alpha)
    if refused:
        return SelectiveDecision(**base, refused=refused)
    calibration, held_out = split_indices(values.size, calibration_fraction, seed)
    base.update(calibration_indices=indices[calibration].tolist(), held_out_indices=indices[held_out].tolist(),
                n_calibration=len(calibration), n_held_out=len(held_out))
    run = learn_then_test(values[calibration], hit[calibration], higher_is, alpha, delta)
    base["thresholds_tested"] = run.tested
    if run.chosen is None:
        return SelectiveDecision(**base, refused=uncertified_refusal(run, method, higher_is, alpha, delta,
                                                                     len(calibration), calibration_fraction))
    threshold = float(run.candidates.threshold[run.chosen])
    answered = int(run.candidates.answered[run.chosen])
    kept = answers(values[held_out], threshold, higher_is)
    held_out_answered = int(kept.sum())
    held_out_errors = int((1.0 - hit[held_out][kept]).sum())
    answer_if = rule(method, threshold, higher_is)
    return SelectiveDecision(
        **base, threshold=threshold, answer_if=answer_if, calibration_answered=answered,
        calibration_errors=int(run.candidates.errors[run.chosen]), calibration_coverage=answered / len(calibration),
        calibration_p_value=float(run.p_values[run.chosen]), held_out_answered=held_out_answered,
        held_out_errors=held_out_errors, held_out_coverage=held_out_answered / len(held_out),
        held_out_error=held_out_errors / held_out_answered if held_out_answered else None,
        guarantee=guarantee_text(alpha, delta, answer_if, len(calibration), noun))
