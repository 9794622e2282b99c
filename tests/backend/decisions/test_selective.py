"""Selective answering with a guarantee (Learn-Then-Test): hand-computed p-values and thresholds, scipy's binomtest
as the independent reference, the refusals, and the guarantee itself over 300 seeded draws of a synthetic dataset
whose error probability is known at every score."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binomtest

from backend.analyses.recalibration import split_indices
from backend.decisions import selective as sel

# Ten calibration items, most confident first; the 7th, 9th and 10th are wrong.
HAND_SCORES = np.array([1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1])
HAND_CORRECT = np.array([1, 1, 1, 1, 1, 1, 0, 1, 0, 0])


def test_min_answered_is_the_zero_error_boundary():
    # (1 - alpha)^n <= delta: 0.9^22 = 0.0985 <= 0.1 < 0.9^21 = 0.1094; 0.95^45 = 0.0994 < 0.1 < 0.95^44 = 0.1047
    assert sel.min_answered(0.1, 0.1) == 22 and sel.min_answered(0.05, 0.1) == 45
    assert sel.min_answered(0.3, 0.2) == 5  # 0.7^5 = 0.168 <= 0.2 < 0.7^4 = 0.240
    assert sel.min_answered(0.5, 0.25) == 2  # exactly on the boundary: 0.5^2 = 0.25
    for alpha, delta in [(0.1, 0.1), (0.05, 0.01), (0.2, 0.05), (0.01, 0.1)]:
        n = sel.min_answered(alpha, delta)
        assert n == math.ceil(math.log(delta) / math.log(1 - alpha))
        assert sel.binomial_p_value(0, n, alpha) <= delta < sel.binomial_p_value(0, n - 1, alpha)


def test_p_values_and_upper_bounds_match_scipy_binomtest():
    for n in (1, 5, 22, 60):
        for k in range(0, n + 1, max(1, n // 6)):
            for alpha in (0.05, 0.1, 0.3):
                reference = binomtest(k, n, alpha, alternative="less").pvalue
                assert sel.binomial_p_value(k, n, alpha) == pytest.approx(reference, rel=1e-10, abs=1e-15)
            for delta in (0.05, 0.1):
                exact = binomtest(k, n).proportion_ci(confidence_level=1 - 2 * delta, method="exact").high
                bound = float(sel.error_upper_bound(k, n, delta))
                assert bound == pytest.approx(exact, abs=1e-9)
                # one threshold passes the test exactly where its bound is at or under alpha
                for alpha in (bound - 1e-6, bound + 1e-6):
                    if 0 < alpha < 1:
                        assert (sel.binomial_p_value(k, n, alpha) <= delta) == (bound <= alpha)


def test_candidates_answer_ties_together_and_keep_the_score_units():
    found = sel.candidates([0.9, 0.9, 0.8, 0.7], [1, 0, 1, 1], "confident")
    assert found.threshold.tolist() == [0.9, 0.8, 0.7]
    assert found.answered.tolist() == [2, 3, 4] and found.errors.tolist() == [1, 1, 1]
    entropy = sel.candidates([2.0, 0.5, 1.0], [0, 1, 1], "uncertain")  # low entropy answers first
    assert entropy.threshold.tolist() == [0.5, 1.0, 2.0] and entropy.errors.tolist() == [0, 0, 1]
    with pytest.raises(ValueError, match="3 scores but 2"):
        sel.candidates([1, 2, 3], [1, 0], "confident")


def test_the_fixed_sequence_by_hand():
    """alpha 0.3, delta 0.2: n_min = 5. Answering 5: 0 wrong, p = 0.7^5 = 0.16807 <= 0.2, rejected; 6: 0 wrong,
    p = 0.7^6 = 0.117649, rejected; 7: 1 wrong, p = 0.7^7 + 7 * 0.3 * 0.7^6 = 0.3294172 > 0.2: stop. The chosen
    threshold is the 6th score, 0.5; thresholds 1.0 .. 0.7 answer fewer than 5 and are skipped."""
    run = sel.learn_then_test(HAND_SCORES, HAND_CORRECT, "confident", 0.3, 0.2)
    assert run.first == 4 and run.chosen == 5 and run.tested == 3
    assert run.p_values[4:7] == pytest.approx([0.16807, 0.117649, 0.3294172], abs=1e-7)
    assert run.candidates.threshold[run.chosen] == 0.5
    flipped = sel.learn_then_test(-HAND_SCORES, HAND_CORRECT, "uncertain", 0.3, 0.2)
    assert flipped.chosen == 5 and flipped.candidates.threshold[5] == -0.5


def test_the_fixed_sequence_runs_to_the_end_when_nothing_fails():
    run = sel.learn_then_test(HAND_SCORES, np.ones(10), "confident", 0.3, 0.2)
    assert run.chosen == 9 and run.tested == 6  # answering 5, 6, ..., 10, all rejected


def test_a_decision_reports_both_splits():
    rng = np.random.default_rng(7)
    score = rng.uniform(0, 1, 400)
    correct = (rng.uniform(0, 1, 400) < 1.5 * score).astype(int)  # right above 2/3, so some threshold passes
    indices = np.arange(100, 500)
    decision = sel.selective_decision(score, correct, "confident", 0.2, 0.1, method="p", seed=3,
                                      calibration_fraction=0.4, item_indices=indices, noun="items")
    assert decision.refused is None
    calibration, held_out = split_indices(400, 0.4, 3)
    assert decision.calibration_indices == (indices[calibration]).tolist()
    assert decision.held_out_indices == (indices[held_out]).tolist()
    assert decision.n_calibration == 160 and decision.n_held_out == 240
    run = sel.learn_then_test(score[calibration], correct[calibration], "confident", 0.2, 0.1)
    threshold = run.candidates.threshold[run.chosen]
    assert decision.threshold == threshold
    answered = score[calibration] >= threshold
    assert decision.calibration_answered == answered.sum()
    assert decision.calibration_errors == (1 - correct[calibration][answered]).sum()
    assert decision.calibration_p_value == pytest.approx(binomtest(decision.calibration_errors,
                                                                   decision.calibration_answered, 0.2,
                                                                   alternative="less").pvalue)
    assert decision.calibration_p_value <= 0.1
    kept = score[held_out] >= threshold
    assert decision.held_out_answered == kept.sum() and decision.held_out_coverage == kept.mean()
    assert decision.held_out_errors == (1 - correct[held_out][kept]).sum()
    assert decision.held_out_error == pytest.approx(1 - correct[held_out][kept].mean())
    assert decision.answer_if == f"p >= {threshold:.6g}"
    assert decision.guarantee.startswith(f"On new items like these, at most 20 % of the answers given will be wrong, "
                                         f"with 90 % probability, when answering only if p >= {threshold:.6g}")
    assert "160 calibration items" in decision.guarantee and "exchangeable" in decision.assumption.lower()
    assert decision.min_answered == 11 and "fixed-sequence" in decision.procedure
    again = sel.selective_decision(score, correct, "confident", 0.2, 0.1, method="p", seed=3,
                                   calibration_fraction=0.4, item_indices=indices)
    other = sel.selective_decision(score, correct, "confident", 0.2, 0.1, method="p", seed=4,
                                   calibration_fraction=0.4, item_indices=indices)
    assert again.calibration_indices == decision.calibration_indices != other.calibration_indices


def decide(score, correct, alpha=0.1, delta=0.1, fraction=0.5, higher_is="confident"):
    return sel.selective_decision(score, correct, higher_is, alpha, delta, method="p", seed=0,
                                  calibration_fraction=fraction)


@pytest.mark.parametrize("alpha, delta, fraction, named", [(0.0, 0.1, 0.5, "alpha"), (1.0, 0.1, 0.5, "alpha"),
                                                           (0.1, 1.5, 0.5, "delta"), (0.1, -0.1, 0.5, "delta"),
                                                           (0.1, 0.1, 1.0, "the calibration fraction"),
                                                           (float("nan"), 0.1, 0.5, "alpha")])
def test_levels_out_of_range_are_refused(alpha, delta, fraction, named):
    decision = decide([0.1, 0.9], [0, 1], alpha, delta, fraction)
    assert decision.refused.startswith(f"{named} must be strictly between 0 and 1")
    assert decision.threshold is None and decision.guarantee is None


def test_one_class_only_is_refused():
    right = decide(np.linspace(0, 1, 60), np.ones(60))
    assert right.refused.startswith("every one of the 60 items is right (one class only)")
    wrong = decide(np.linspace(0, 1, 60), np.zeros(60))
    assert wrong.refused.startswith("every one of the 60 items is wrong (one class only): no threshold can keep "
                                    "the error of the answers given under 10 %")
    assert decide([], []).refused == "no item has a p score"
    assert decide([0.1, float("nan"), 0.9], [0, 1, 1]).refused.startswith("1 of the p scores are not finite")


def test_too_few_items_say_how_many_are_needed():
    score = np.linspace(0, 1, 40)
    decision = decide(score, (score > 0.3).astype(int), alpha=0.05, delta=0.1)
    assert decision.n_calibration == 20 and decision.min_answered == 45
    assert decision.refused == ("with 20 calibration items no threshold can be shown to keep the error under 5 % "
                                "with 90 % confidence: even with no wrong answer that needs at least 45 answered "
                                "items; audit more items (at least 90 at a calibration fraction of 0.5) or raise "
                                "alpha (or delta)")
    assert sel.items_needed(45, 0.5) == 90 and min(89 - 1, round(89 * 0.5)) < 45


def test_a_wrong_answer_among_the_most_confident_is_refused_with_the_numbers():
    score = np.linspace(1, 0, 100)
    correct = np.ones(100)
    calibration, _ = split_indices(100, 0.5, 0)
    correct[calibration[0]] = 0  # scores fall with the position: the most confident calibration item is wrong
    decision = decide(score, correct, alpha=0.1, delta=0.1)
    assert decision.refused.startswith("no threshold can be shown to keep the error under 10 % with 90 % "
                                       "confidence: the strictest threshold with enough answers (p >= ")
    assert "answering 22 of 50 calibration items) already has 1 wrong (4.5%; binomial p = 0.339 > delta = 0.1)" \
        in decision.refused
    assert decision.thresholds_tested == 1


def true_selective_risk(threshold: float) -> float:
    """s ~ U(0, 1) and P(wrong | s) = 1 - s: P(wrong | s >= t) = E[1 - s | s >= t] = (1 - t) / 2."""
    return (1.0 - threshold) / 2.0


def naive_threshold(score, correct, alpha: float) -> float:
    """The most lenient threshold whose calibration error is at most alpha (no test: what the guarantee avoids)."""
    found = sel.candidates(score, correct, "confident")
    ok = np.flatnonzero(found.errors / found.answered <= alpha)
    return float(found.threshold[ok[-1]])


REPEATS = 300
SLACK = 3 * math.sqrt(0.1 * 0.9 / REPEATS)  # three Monte-Carlo standard errors of a rate of 0.1 over 300 draws


def test_the_guarantee_holds_over_many_seeded_draws():
    """300 seeded draws of 400 items (s ~ U(0, 1), wrong with probability 1 - s), each split in half with its own
    seed: the share of draws whose certified threshold has a TRUE selective risk above alpha is at most delta
    (+ SLACK = 0.052 of Monte-Carlo error). Refusals claim nothing and count as kept promises; the test is not
    vacuous (most draws certify a threshold) and has teeth (the untested rule breaks its promise far more often)."""
    alpha, delta = 0.2, 0.1
    broken = naive_broken = certified = 0
    for repeat in range(REPEATS):
        rng = np.random.default_rng(10_000 + repeat)
        score = rng.uniform(0, 1, 400)
        correct = (rng.uniform(0, 1, 400) < score).astype(int)
        decision = sel.selective_decision(score, correct, "confident", alpha, delta, method="s", seed=repeat)
        calibration, _ = split_indices(400, 0.5, repeat)
        naive_broken += true_selective_risk(naive_threshold(score[calibration], correct[calibration], alpha)) > alpha
        if decision.refused is None:
            certified += 1
            broken += true_selective_risk(decision.threshold) > alpha
    assert broken / REPEATS <= delta + SLACK
    assert certified / REPEATS >= 0.5
    assert naive_broken / REPEATS > 0.3


def test_the_guarantee_holds_where_every_threshold_is_too_risky():
    """The hardest case: the error rate is 0.12 at every score (above alpha = 0.1), so every threshold is a true
    null and any certification breaks the promise; that happens in at most delta of 300 draws (+ SLACK)."""
    broken = 0
    for repeat in range(REPEATS):
        rng = np.random.default_rng(20_000 + repeat)
        score = rng.uniform(0, 1, 1000)
        correct = (rng.uniform(0, 1, 1000) >= 0.12).astype(int)
        broken += sel.selective_decision(-score, correct, "uncertain", 0.1, 0.1, method="u",
                                         seed=repeat).refused is None
    assert broken / REPEATS <= 0.1 + SLACK
