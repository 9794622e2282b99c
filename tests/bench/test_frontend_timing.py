"""The pure half of the front-end benchmark (bench/frontend_timing.py): percentiles by hand and against numpy, the
latency of a page reading, the goal and the table; no browser."""
from __future__ import annotations

import numpy as np
import pytest

from bench.frontend_timing import GOAL_P95_MS, Row, latency_ms, percentile, phases, table


def test_percentile_interpolates_between_closest_ranks():
    values = [40.0, 10.0, 30.0, 20.0]  # sorted 10 20 30 40; rank (n - 1) q / 100
    assert percentile(values, 50) == 25.0  # rank 1.5
    assert percentile(values, 95) == pytest.approx(38.5)  # rank 2.85: 30 + 0.85 * 10
    assert percentile(values, 0) == 10.0 and percentile(values, 100) == 40.0
    assert percentile([7.0], 95) == 7.0


def test_percentile_matches_numpy_linear():
    values = list(np.random.default_rng(0).gamma(2.0, 60.0, size=37))
    for q in (5, 50, 90, 95, 99):
        assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


def test_percentile_refuses_no_values_and_a_q_outside_0_100():
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match=r"\[0, 100\]"):
        percentile([1.0], 101)


def test_latency_is_last_mutation_minus_input_event_and_missing_without_either():
    assert latency_ms({"t0": 1000.5, "last": 1120.0}) == pytest.approx(119.5)
    assert latency_ms({"t0": None, "last": 5.0}) is None
    assert latency_ms({"t0": 5.0, "last": None}) is None


def test_summary_applies_the_goal_only_to_views_that_need_no_model_call():
    fast = Row("colour-by switch", "Text", False, "no", "[class*='st-key-a']", [100.0, 120.0, 140.0])
    slow = Row("token click", "Text", False, "no", "x", [100.0, 200.0])
    model = Row("text temperature", "Text", True, "yes", "x", [2000.0, 3000.0])
    assert fast.summary() == {"p50_ms": 120.0, "p95_ms": pytest.approx(138.0), "n": 3, "meets_goal": True}
    assert slow.summary()["p95_ms"] == pytest.approx(195.0) and slow.summary()["meets_goal"] is False
    assert model.summary()["meets_goal"] is None
    assert Row("empty", "Text", False, "no", "x").summary() == {"p50_ms": None, "p95_ms": None, "n": 0,
                                                                "meets_goal": None}
    assert GOAL_P95_MS == 150.0


def test_table_has_a_line_per_row_with_its_percentiles_goal_and_notes():
    rows = [Row("colour-by switch", "Text", False, "no (cached analysis)", "x", [100.0, 120.0, 140.0]),
            Row("text temperature + Analyze", "Text", True, "yes (generates again)", "x", [2500.0],
                note="a form field: takes effect on Analyze")]
    lines = table(rows).splitlines()
    assert lines[0].split()[:3] == ["interaction", "model", "call?"]
    assert lines[2].split()[-4:] == ["120", "138", "3", "met"]
    assert lines[3].split()[-5:] == ["2500", "2500", "1", "-", "[1]"]
    assert lines[-1] == "[1] a form field: takes effect on Analyze"
    json_row = rows[0].as_json()
    assert json_row["samples_ms"] == [100.0, 120.0, 140.0] and json_row["needs_model"] is False


def test_phases_are_milliseconds_after_the_input_event():
    reading = {"t0": 1000.0, "last": 1300.0, "runStart": 1050.5, "runEnd": 1250.0, "runs": 1, "mutations": 40}
    assert phases(reading) == {"run_start_ms": 50.5, "run_end_ms": 250.0, "runs": 1, "mutations": 40}
    assert phases({"t0": 1000.0, "runStart": None})["run_start_ms"] is None
