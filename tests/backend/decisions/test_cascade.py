"""Cascade curves on a hand-computed 5-item case, against brute force over every deferred subset (the oracle is the
best subset of each size, random deferral the mean over all of them), the quantile rules against numpy.quantile,
and the refusals of pairing."""
from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest

from backend.decisions.cascade import (NO_TOKEN_NUMBERS, CascadeSide, cascade, deferral_order, pair_items,
                                       token_rules)
from backend.schemas.audit import AuditItem, AuditMethodInfo

SHA = "a" * 64
SMALL_RIGHT = [True, False, True, False, True]        # acc 0.6
LARGE_RIGHT = [True, True, False, True, True]         # acc 0.8; gain l - s = [0, 1, -1, 1, 0]
LOGPROBS = [[-0.1, -0.2], [-2.0, -0.1, -0.3], [-0.5], [-1.0, -1.0], [-0.05, -0.9, -0.05, -0.05]]
# token NLL mean: 0.15, 0.8, 0.5, 1.0, 0.2625 -> deferred 3, 1, 2, 4, 0; max: 0.2, 2.0, 0.5, 1.0, 0.9 -> 1, 3, 4, 2, 0
RATES = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]


def item(index: int, correct: bool, logprobs=None, scores=None) -> AuditItem:
    return AuditItem(index=index, id=f"q{index}", question=f"question {index}", answers=["x"], answer="y",
                     correct=correct, grading="alias", scores=scores or {}, token_logprobs=logprobs)


def method(name: str, higher_is: str) -> AuditMethodInfo:
    return AuditMethodInfo(name=name, label=name, description="", paper="test", higher_is=higher_is,
                           is_probability=False, source="token", cost="1 pass")


def sides(small_right=SMALL_RIGHT, large_right=LARGE_RIGHT, logprobs=LOGPROBS, scores=None):
    small = [item(i, bool(c), lp, (scores or {}).get(i)) for i, (c, lp) in enumerate(zip(small_right, logprobs))]
    large = [item(i, bool(c)) for i, c in enumerate(large_right)]
    return CascadeSide("small", "1" * 16, SHA, small), CascadeSide("large", "2" * 16, SHA, large)


def curve(result, name):
    return next(c for c in [*result.rules, result.oracle, result.random] if c.name == name)


def brute_force(small_right, large_right, order_key=None):
    """Accuracy at each k: the given deferral order's, the best subset's (oracle), the mean over subsets (random)."""
    s, l_ = np.array(small_right, float), np.array(large_right, float)
    n = len(s)

    def accuracy(deferred):
        return sum(l_[i] if i in deferred else s[i] for i in range(n)) / n

    order = sorted(range(n), key=order_key) if order_key else None
    ruled = [accuracy(set(order[:k])) for k in range(n + 1)] if order else None
    subsets = [[accuracy(set(c)) for c in combinations(range(n), k)] for k in range(n + 1)]
    return ruled, [max(a) for a in subsets], [float(np.mean(a)) for a in subsets]


def test_hand_computed_curves_of_the_mean_and_max_rules_and_the_references():
    result = cascade(*sides(), [], "builtin-qa")
    assert result.refused is None and result.n == 5
    assert (result.small_accuracy, result.large_accuracy) == pytest.approx((0.6, 0.8))
    assert result.deferral_rate == pytest.approx(RATES) and result.cost_saved == pytest.approx(RATES[::-1])
    mean, top = curve(result, "token_mean_nll"), curve(result, "token_max_nll")
    assert mean.accuracy == pytest.approx([0.6, 0.8, 1.0, 0.8, 0.8, 0.8])
    assert top.accuracy == pytest.approx([0.6, 0.8, 1.0, 1.0, 0.8, 0.8])
    assert curve(result, "token_sum_nll").accuracy == pytest.approx(top.accuracy)  # sums 0.3 2.4 0.5 2.0 1.05
    assert result.oracle.accuracy == pytest.approx([0.6, 0.8, 1.0, 1.0, 1.0, 0.8])
    assert result.random.accuracy == pytest.approx([0.6, 0.64, 0.68, 0.72, 0.76, 0.8])
    # areas by trapezoids of width 0.2: oracle 0.9, random 0.7, max 0.86, mean 0.82
    assert (result.oracle.area, result.random.area, top.area, mean.area) == pytest.approx((0.9, 0.7, 0.86, 0.82))
    assert (top.oracle_share, mean.oracle_share, result.random.oracle_share) == pytest.approx((0.8, 0.6, 0.0))
    assert top.accuracy_at == pytest.approx({"0.1": 0.7, "0.2": 0.8, "0.3": 0.9, "0.5": 1.0})
    assert mean.accuracy_at["0.5"] == pytest.approx(0.9) and result.random.accuracy_at["0.5"] == pytest.approx(0.7)
    assert (mean.reaches_large_at, result.random.reaches_large_at) == (0.2, 1.0)
    assert [c.name for c in result.rules[:4]] == ["token_sum_nll", "token_max_nll", "token_q90_nll", "token_q95_nll"]
    assert result.best().name == "token_sum_nll"  # the first of the rules with the largest area, 0.86


def test_curves_equal_brute_force_over_every_deferred_subset():
    rng = np.random.default_rng(3)
    for _ in range(20):
        small_right, large_right = rng.random(7) < 0.5, rng.random(7) < 0.7
        logprobs = [list(-rng.exponential(1.0, rng.integers(1, 6))) for _ in range(7)]
        result = cascade(*sides(small_right, large_right, logprobs), [], "d")
        means = [-np.mean(lp) for lp in logprobs]
        ruled, oracle, random = brute_force(small_right, large_right, lambda i: (-means[i], i))
        assert curve(result, "token_mean_nll").accuracy == pytest.approx(ruled)
        assert result.oracle.accuracy == pytest.approx(oracle)
        assert result.random.accuracy == pytest.approx(random)
        for rule in result.rules:
            assert all(a <= o + 1e-12 for a, o in zip(rule.accuracy, result.oracle.accuracy))


@pytest.mark.parametrize("q", [0.5, 0.8, 0.9, 0.95])
def test_quantile_rules_are_numpy_quantiles_of_the_token_nll(q):
    rule = next(r for r in token_rules() if r.name == f"token_q{round(q * 100)}_nll")
    for logprobs in LOGPROBS:
        assert rule.uncertainty(item(0, True, logprobs)) == pytest.approx(np.quantile(-np.array(logprobs), q))
    result = cascade(*sides(), [], "d")
    values = [np.quantile(-np.array(lp), q) for lp in LOGPROBS]
    ruled, _, _ = brute_force(SMALL_RIGHT, LARGE_RIGHT, lambda i: (-values[i], i))
    assert curve(result, rule.name).accuracy == pytest.approx(ruled)


def test_method_rules_follow_the_direction_and_unscored_items_go_first():
    confident = {i: {"mean_logprob": float(np.mean(lp)), "entropy": -float(np.mean(lp))}
                 for i, lp in enumerate(LOGPROBS)}
    confident[0] = {"mean_logprob": None, "entropy": None}
    result = cascade(*sides(scores=confident), [method("mean_logprob", "confident"), method("entropy", "uncertain")],
                     "d")
    by_confidence, by_entropy = curve(result, "mean_logprob"), curve(result, "entropy")
    assert by_confidence.accuracy == by_entropy.accuracy and by_confidence.unscored == 1
    # item 0 (unscored) deferred first, then by mean NLL: 3, 1, 2, 4 -> gains 0, 1, 1, -1, 0
    assert by_confidence.accuracy == pytest.approx([0.6, 0.6, 0.8, 1.0, 0.8, 0.8])


def test_ties_defer_the_earlier_item_first():
    assert deferral_order([1.0, 2.0, 2.0, None, 0.5]).tolist() == [3, 1, 2, 0, 4]


def test_items_without_token_numbers_leave_the_token_rules_out_and_say_so():
    result = cascade(*sides(logprobs=[None] * 5), [method("p", "confident")], "d")
    assert [r.name for r in result.rules] == ["p"] and result.notes == [NO_TOKEN_NUMBERS]


def test_pairing_is_by_item_and_reorders_the_large_answers():
    small, large = sides()
    shuffled = CascadeSide(large.model, large.audit_id, SHA, [*large.items[::-1], item(9, False)])
    paired_small, paired_large = pair_items(small, shuffled)
    assert [i.index for i in paired_large] == [0, 1, 2, 3, 4] and paired_small == list(small.items)


@pytest.mark.parametrize("change, says", [
    (lambda s, l_: (s, CascadeSide("small", l_.audit_id, SHA, l_.items)), "a cascade defers to a second model"),
    (lambda s, l_: (s, CascadeSide("large", l_.audit_id, "b" * 64, l_.items)), "different datasets"),
    (lambda s, l_: (s, CascadeSide("large", l_.audit_id, SHA, l_.items[:3])), "has not answered 2 of the 5 items"),
    (lambda s, l_: (CascadeSide("small", s.audit_id, SHA, []), l_), "has no finished item yet"),
])
def test_refusals_say_why(change, says):
    result = cascade(*change(*sides()), [], "d")
    assert result.refused is not None and says in result.refused and result.rules == [] and result.n == 0
