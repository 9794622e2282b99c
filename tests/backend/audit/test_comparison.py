"""Two audits compared: hand-computed differences on a tiny pair, the paired bootstrap against a direct numpy loop
over the scalar metrics (and scipy.stats.bootstrap's paired percentile interval), pairing by id, the refusals and
the work cap."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from backend.analyses import calibration as cal
from backend.analyses import error_detection as ed
from backend.audit.comparison import AuditSide, compare_sides, pair_positions
from backend.errors import UserInputError
from backend.schemas.audit import AuditItem, AuditMethodInfo
from backend.schemas.audit_compare import AuditComparisonRequest

A_ID, B_ID = "a" * 16, "b" * 16


def method(name: str = "p", higher_is: str = "confident", probability: bool = True) -> AuditMethodInfo:
    return AuditMethodInfo(name=name, label=name, description="", paper="", higher_is=higher_is,
                           is_probability=probability, source="given", cost="")


def items(ids, correct, **scores) -> list[AuditItem]:
    return [AuditItem(index=i, id=item_id, question="", answers=[], answer="", correct=bool(c), grading="given",
                      scores={name: values[i] for name, values in scores.items()})
            for i, (item_id, c) in enumerate(zip(ids, correct))]


def side(audit_id, kept, name="p", dataset="scores.csv", sha="0" * 64, **kwargs) -> AuditSide:
    return AuditSide(audit_id=audit_id, model_id=f"model-{audit_id[0]}", dataset_id=dataset, dataset_sha256=sha,
                     method=method(name, **kwargs), seed=0, items=kept)


def request(**fields) -> AuditComparisonRequest:
    return AuditComparisonRequest(**{"audit_a": A_ID, "audit_b": B_ID, "n_boot": 200, **fields})


# A: right, right, wrong, wrong at 0.95, 0.85, 0.65, 0.35; B (listed in another order, plus an item A lacks):
# right, wrong, right, wrong at 0.75, 0.95, 0.45, 0.65 on the same ids.
TINY_A = items(["q1", "q2", "q3", "q4", "only-a"], [1, 1, 0, 0, 1], p=[0.95, 0.85, 0.65, 0.35, 0.5])
TINY_B = items(["q3", "only-b", "q1", "q4", "q2"], [1, 0, 1, 0, 0], p=[0.45, 0.1, 0.75, 0.65, 0.95])


def test_hand_computed_differences_on_a_tiny_pair():
    result = compare_sides(side(A_ID, TINY_A), side(B_ID, TINY_B), request())
    assert (result.paired_items, result.only_a, result.only_b) == (4, 1, 1)
    table = {m.name: m for m in result.metrics}
    # accuracy: 2 of 4 on both sides
    assert table["accuracy"].a == pytest.approx(0.5) and table["accuracy"].difference == pytest.approx(0.0)
    # ECE, 10 equal-width bins, one item a bin: A (0.05 + 0.15 + 0.65 + 0.35) / 4, B (0.25 + 0.95 + 0.55 + 0.65) / 4
    assert table["ece"].a == pytest.approx(0.3) and table["ece"].b == pytest.approx(0.6)
    assert table["ece"].difference == pytest.approx(0.3)
    # Brier: A (0.05² + 0.15² + 0.65² + 0.35²) / 4 = 0.1425, B (0.25² + 0.95² + 0.55² + 0.65²) / 4 = 0.4225
    assert table["brier"].a == pytest.approx(0.1425) and table["brier"].difference == pytest.approx(0.28)
    # AUROC: A's wrong answers are all less confident (1); B ranks one of its 4 (wrong, right) pairs right (0.25)
    assert table["auroc"].a == pytest.approx(1.0) and table["auroc"].b == pytest.approx(0.25)
    assert table["auroc"].difference == pytest.approx(-0.75)
    # AURC: mean risk of the k most confident: A (0 + 0 + 1/3 + 1/2) / 4, B (1 + 1/2 + 2/3 + 1/2) / 4
    assert table["aurc"].a == pytest.approx((1 / 3 + 1 / 2) / 4)
    assert table["aurc"].b == pytest.approx((1 + 1 / 2 + 2 / 3 + 1 / 2) / 4)
    assert result.risk_coverage.a.aurc == pytest.approx(table["aurc"].a)
    assert result.risk_coverage.b.risk == pytest.approx([1, 1 / 2, 2 / 3, 1 / 2])
    # reliability of the paired items: A's 0.95 in bin 9 (right), 0.35 in bin 3 (wrong)
    assert result.reliability.a.counts == [0, 0, 0, 1, 0, 0, 1, 0, 1, 1]
    assert result.reliability.a.accuracy[9] == 1.0 and result.reliability.a.accuracy[3] == 0.0
    assert result.reliability.a.accuracy[0] is None
    assert result.a.label == "A: model-a · p" and result.b.accuracy == pytest.approx(0.5)
    for row in result.metrics:
        if row.ci_low is not None:
            assert row.ci_low <= row.ci_high


def random_pair(n: int, seed: int = 1):
    """Two correlated probability methods on n shared items, each graded its own way."""
    rng = np.random.default_rng(seed)
    truth = rng.random(n)
    hit_a, hit_b = rng.random(n) < truth, rng.random(n) < truth * 0.8
    p_a = np.clip(truth + rng.normal(0, 0.15, n), 0.01, 0.99)
    p_b = np.clip(truth * 0.8 + rng.normal(0, 0.25, n), 0.01, 0.99)
    ids = [f"q{i}" for i in range(n)]
    return (side(A_ID, items(ids, hit_a, p=p_a)), side(B_ID, items(ids, hit_b, p=p_b)),
            (p_a, hit_a.astype(float)), (p_b, hit_b.astype(float)))


def reference_interval(scalar, a, b, n_boot, seed, level=0.95):
    """The paired percentile interval by a direct loop: the same index rows, the scalar metric on each side."""
    n = len(a[0])
    rows = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
    d = []
    for r in rows:
        try:
            d.append(scalar(b[0][r], b[1][r]) - scalar(a[0][r], a[1][r]))
        except ValueError:
            d.append(np.nan)
    d = np.array(d)
    d = d[np.isfinite(d)]
    return np.percentile(d, [50 * (1 - level), 50 * (1 + level)]), 2 * min(np.mean(d <= 0), np.mean(d >= 0))


SCALARS = {"brier": cal.brier_score, "ece": lambda c, y: cal.expected_calibration_error(c, y, 10),
           "nll": cal.negative_log_likelihood, "accuracy": lambda _c, y: float(np.mean(y)),
           "auroc": lambda s, y: ed.error_auroc(s, y, "confident"),
           "aurc": lambda s, y: ed.risk_coverage(s, y, "confident").aurc}


@pytest.mark.parametrize("name", sorted(SCALARS))
def test_paired_bootstrap_equals_a_direct_loop_over_the_scalar_metrics(name):
    a_side, b_side, a, b = random_pair(60)
    result = compare_sides(a_side, b_side, request(n_boot=300, seed=7, level=0.9))
    row = next(m for m in result.metrics if m.name == name)
    (low, high), share = reference_interval(SCALARS[name], a, b, 300, 7, level=0.9)
    assert row.difference == pytest.approx(SCALARS[name](*b) - SCALARS[name](*a))
    assert (row.ci_low, row.ci_high) == pytest.approx((low, high), abs=1e-12)
    assert row.p_boot == pytest.approx(min(1.0, share))
    assert row.excludes_zero == (low > 0 or high < 0)


def test_paired_bootstrap_agrees_with_scipy_paired_percentile_interval():
    a_side, b_side, a, b = random_pair(400, seed=3)
    result = compare_sides(a_side, b_side, request(n_boot=2000, seed=0))
    row = next(m for m in result.metrics if m.name == "brier")
    reference = stats.bootstrap((a[0], a[1], b[0], b[1]), lambda ca, ya, cb, yb: np.mean((cb - yb) ** 2) -
                                np.mean((ca - ya) ** 2), paired=True, vectorized=False, n_resamples=2000,
                                method="percentile", random_state=np.random.default_rng(5)).confidence_interval
    width = reference.high - reference.low
    assert row.ci_low == pytest.approx(reference.low, abs=0.1 * width)
    assert row.ci_high == pytest.approx(reference.high, abs=0.1 * width)


def test_two_methods_of_one_audit_compare_with_equal_accuracy():
    kept = items([f"q{i}" for i in range(40)], [i % 3 != 0 for i in range(40)],
                 p=[0.3 + (i % 7) / 10 for i in range(40)], e=[(i % 5) / 2 for i in range(40)])
    a = side(A_ID, kept, "p")
    b = side(A_ID, kept, "e", higher_is="uncertain", probability=False)
    result = compare_sides(a, b, request(audit_b=A_ID, method_a="p", method_b="e"))
    accuracy = next(m for m in result.metrics if m.name == "accuracy")
    assert accuracy.difference == 0 and (accuracy.ci_low, accuracy.ci_high) == (0, 0) and not accuracy.excludes_zero
    assert "Platt" in result.b.confidence_source and result.reliability.b is not None
    assert any("one audit" in note for note in result.notes)
    with pytest.raises(UserInputError, match="pick another method"):
        compare_sides(a, a, request(audit_b=A_ID, method_a="p", method_b="x"))


def test_pairing_by_id_keeps_repeated_ids_in_order():
    first = items(["x", "y", "x"], [1, 1, 0], p=[0.1, 0.2, 0.3])
    second = items(["x", "x", "z"], [1, 0, 1], p=[0.4, 0.5, 0.6])
    assert pair_positions(first, second) == ([(0, 0), (2, 1)], 1, 1)


def test_refusals_name_the_datasets_and_say_what_to_change():
    with pytest.raises(UserInputError, match="'scores.csv'.*'other.csv'.*same dataset"):
        compare_sides(side(A_ID, TINY_A), side(B_ID, TINY_B, dataset="other.csv", sha="1" * 64), request())
    disjoint = items(["z1", "z2"], [1, 0], p=[0.5, 0.6])
    with pytest.raises(UserInputError, match="share no item id"):
        compare_sides(side(A_ID, TINY_A), side(B_ID, disjoint), request())
    unscored = items(["q1", "q2"], [1, 0], p=[None, 0.6])
    with pytest.raises(UserInputError, match="only 1 of the 2 paired items"):
        compare_sides(side(A_ID, TINY_A), side(B_ID, unscored), request())
    changed = compare_sides(side(A_ID, TINY_A), side(B_ID, TINY_B, sha="1" * 64), request())
    assert any("other bytes" in note for note in changed.notes)


def test_the_work_is_capped_and_the_request_refuses_one_side_twice():
    a_side, b_side, *_ = random_pair(3000)
    with pytest.raises(UserInputError, match="at most 3333 resamples"):
        compare_sides(a_side, b_side, request(n_boot=5000))
    with pytest.raises(ValueError, match="same audit"):
        AuditComparisonRequest(audit_a=A_ID, audit_b=A_ID)


def test_an_undefined_metric_says_why():
    all_right = items(["q1", "q2", "q3", "q4"], [1, 1, 1, 1], p=[0.9, 0.8, 0.7, 0.6])
    result = compare_sides(side(A_ID, all_right), side(B_ID, TINY_B), request())
    auroc = next(m for m in result.metrics if m.name == "auroc")
    assert auroc.a is None and auroc.ci_low is None and "undefined" in auroc.undefined


def test_chunked_resamples_are_the_same_draws(monkeypatch):
    a_side, b_side, a, b = random_pair(60)
    whole = compare_sides(a_side, b_side, request(n_boot=300, seed=7))
    monkeypatch.setattr("backend.analyses.bootstrap.CHUNK_ELEMENTS", 600)  # 10 resamples a chunk
    chunked = compare_sides(a_side, b_side, request(n_boot=300, seed=7))
    assert [(m.ci_low, m.ci_high) for m in chunked.metrics] == [(m.ci_low, m.ci_high) for m in whole.metrics]


def test_a_cancelled_budget_stops_the_bootstrap():
    from backend.budget import Budget, WorkCancelled, working_under

    a_side, b_side, *_ = random_pair(60)
    budget = Budget()
    budget.cancel("the client disconnected")
    with working_under(budget), pytest.raises(WorkCancelled, match="client disconnected"):
        compare_sides(a_side, b_side, request())
