"""The Answer or abstain tab's figure and tables: both splits' risk-coverage, the calibration bound, alpha, the
certified threshold; the per-item split table with who is answered."""
from __future__ import annotations

import numpy as np
import pytest

from backend.audit.selective import method_decision
from backend.decisions.selective import error_upper_bound
from backend.schemas.audit import AuditItem, AuditMethodInfo, AuditRequest, AuditResult
from components.selective_view import decision_frame, error_axis_top, selective_figure, split_arrays

METHOD = AuditMethodInfo(name="p", label="p", description="", paper="", higher_is="confident", is_probability=True,
                         source="given", cost="")


def result_of(n: int = 300, seed: int = 1) -> AuditResult:
    rng = np.random.default_rng(seed)
    score = rng.uniform(0, 1, n)
    right = rng.uniform(0, 1, n) < score
    items = [AuditItem(index=i, id=f"r{i}", question="", answers=[], answer="", correct=bool(c), grading="given",
                       scores={"p": float(s)}) for i, (s, c) in enumerate(zip(score, right))]
    return AuditResult(audit_id="0" * 16, request=AuditRequest(methods=["p"]), model_id="(precomputed)",
                       dataset_id="scores.csv", dataset_sha256="0" * 64, n=n, accuracy=float(right.mean()), n_bins=10,
                       binning="", metrics={}, rank_correlation={}, methods=[METHOD], items=items, created_at="")


def test_the_split_table_marks_who_is_answered():
    result = result_of()
    decision = method_decision(METHOD, result.items, alpha=0.2, delta=0.1, seed=0, calibration_fraction=0.5)
    frame = decision_frame(result, decision)
    assert list(frame.columns) == ["#", "split", "score", "correct", "answered"]
    assert frame["#"].tolist() == decision.calibration_indices + decision.held_out_indices
    held = frame[frame["split"] == "held out"]
    assert held["answered"].sum() == decision.held_out_answered
    assert (~held[held["answered"]]["correct"]).sum() == decision.held_out_errors
    assert (frame["answered"] == (frame["score"] >= decision.threshold)).all()
    score, correct = split_arrays(frame, "calibration")
    assert len(score) == decision.n_calibration and correct.sum() == frame[frame["split"] == "calibration"][
        "correct"].sum()
    refused = method_decision(METHOD, result.items, alpha=0.001, delta=0.1, seed=0, calibration_fraction=0.5)
    assert refused.refused and decision_frame(result, refused)["answered"].isna().all()


def test_the_figure_shows_both_splits_the_bound_alpha_and_the_threshold():
    result = result_of()
    decision = method_decision(METHOD, result.items, alpha=0.2, delta=0.1, seed=0, calibration_fraction=0.5)
    frame = decision_frame(result, decision)
    calibration, held_out = split_arrays(frame, "calibration"), split_arrays(frame, "held out")
    figure = selective_figure(calibration, held_out, decision)
    names = [trace.name for trace in figure.data]
    assert names == ["calibration (150 items)", "calibration upper bound (90 %)", "held out (150 items)",
                     "held out at the threshold"]
    curve, bound = figure.data[0], figure.data[1]
    order = np.argsort(-calibration[0])
    wrong = np.cumsum(1 - calibration[1][order])
    assert curve.x[-1] == 1.0 and curve.y[-1] == pytest.approx(wrong[-1] / 150)
    assert curve.y[9] == pytest.approx(wrong[9] / 10)  # distinct scores: the 10th point answers 10 items
    assert bound.y[9] == pytest.approx(float(error_upper_bound(wrong[9], 10, 0.1)))
    lines = [shape for shape in figure.layout.shapes]
    assert any(s.y0 == s.y1 == 0.2 for s in lines)  # alpha
    assert any(s.x0 == s.x1 == decision.calibration_coverage for s in lines)  # the certified threshold
    marker = figure.data[3]
    assert (marker.x[0], marker.y[0]) == (decision.held_out_coverage, decision.held_out_error)
    refused = method_decision(METHOD, result.items, alpha=0.001, delta=0.1, seed=0, calibration_fraction=0.5)
    plain = selective_figure(calibration, held_out, refused)
    assert len(plain.data) == 3 and not any(s.x0 == s.x1 for s in plain.layout.shapes if s.x0 is not None)


def test_the_error_axis_is_scaled_to_alpha():
    assert (error_axis_top(0.02), error_axis_top(0.1), error_axis_top(0.5)) == (0.08, 0.4, 1.0)
    assert error_axis_top(0.001) == 0.05
