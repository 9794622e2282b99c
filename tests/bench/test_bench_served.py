"""The pure parts of bench/bench_served.py (bench/served_measure.py): percentiles against numpy and by hand, ratios,
latency summaries, interleaved rounds (order and counts on a fake clock) and the cycled question file."""
from __future__ import annotations

import json

import numpy as np
import pytest

from bench import served_measure as sm


def test_percentile_interpolates_between_ranks_as_numpy_does():
    values = [0.9, 0.1, 0.5, 0.3, 0.7]
    assert sm.percentile(values, 50) == 0.5
    # rank 0.95 * 4 = 3.8: 0.7 + 0.8 * (0.9 - 0.7)
    assert sm.percentile(values, 95) == pytest.approx(0.86)
    assert sm.percentile(values, 0) == 0.1 and sm.percentile(values, 100) == 0.9
    rng = np.random.default_rng(0)
    for n in (1, 2, 7, 64):
        sample = rng.exponential(size=n).tolist()
        for q in (5, 50, 95, 99):
            assert sm.percentile(sample, q) == pytest.approx(float(np.percentile(sample, q)))
    with pytest.raises(ValueError, match="no values"):
        sm.percentile([], 50)
    with pytest.raises(ValueError, match=r"\[0, 100\]"):
        sm.percentile([1.0], 101)


def test_ratio_is_missing_when_undefined():
    assert sm.ratio(3.0, 1.5) == 2.0
    assert sm.ratio(None, 1.0) is None and sm.ratio(1.0, None) is None and sm.ratio(1.0, 0.0) is None


def test_latency_summary_of_four_answers():
    found = sm.latency_summary([1.0, 2.0, 3.0, 4.0], seconds=5.0)
    # p50: rank 1.5 -> 2.5; p95: rank 2.85 -> 3.85
    assert found == sm.Latency(answers=4, seconds=5.0, answers_per_s=0.8, p50_s=2.5, p95_s=pytest.approx(3.85),
                               max_s=4.0)


def test_interleaved_warms_up_then_alternates_and_times_each_call():
    order: list[str] = []
    ticks = iter(range(100))
    rounds = sm.interleaved({"a": lambda: order.append("a") or "A", "b": lambda: order.append("b") or "B"},
                            repeats=2, clock=lambda: float(next(ticks)))
    assert order == ["a", "b", "a", "b", "a", "b"]
    assert rounds.seconds == {"a": [1.0, 1.0], "b": [1.0, 1.0]}
    assert rounds.outputs == {"a": ["A", "A"], "b": ["B", "B"]}
    assert rounds.median("a") == 1.0 and rounds.median("missing") is None
    order.clear()
    sm.interleaved({"a": lambda: order.append("a")}, repeats=0)
    assert order == ["a"]


def test_side_rows_give_ratios_to_the_baseline_and_list_unavailable_sides():
    rounds = sm.Rounds({"local": [4.0, 2.0, 3.0], "served": [1.0, 1.5, 0.5]}, {"local": [], "served": []})
    rows = sm.side_rows("audit", rounds, "local", {"peer": "not installed"}, {"served": "16 in flight"}, work=30)
    assert [(r["side"], r["median_s"], r["ratio_to_baseline"], r["per_s"]) for r in rows] == [
        ("local", 3.0, 1.0, 10.0), ("served", 1.0, 1 / 3, 30.0), ("peer", None, None, None)]
    assert rows[1]["note"] == "16 in flight" and rows[2]["unavailable"] == "not installed"


def test_cycled_questions_repeat_with_their_own_ids(tmp_path):
    rows = [{"id": "q1", "question": "A?", "answers": ["a"]}, {"id": "q2", "question": "B?", "answers": ["b"]}]
    assert sm.cycled([1, 2], 5) == [1, 2, 1, 2, 1]
    path = sm.write_cycled_questions(rows, 5, tmp_path / "qa.jsonl")
    written = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["id"] for r in written] == ["q1", "q2", "q1#r1", "q2#r1", "q1#r2"]
    assert [r["question"] for r in written] == ["A?", "B?", "A?", "B?", "A?"]
    with pytest.raises(ValueError, match="no items"):
        sm.cycled([], 3)
