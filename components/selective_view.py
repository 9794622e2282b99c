"""The Answer or abstain tab of an audit: pick a method, a target error rate alpha and a confidence 1 - delta, and
see the threshold Learn-Then-Test certifies on the audit's seeded calibration split, its coverage and error on the
held-out split, the guarantee in words and what it assumes, or why no threshold can be given. Everything is
re-computed from the result's items (backend.audit.selective: no model call), so any alpha and delta work on a
finished or saved audit. A pure figure builder (selective_figure) and a thin renderer; every widget key starts with
the caller's key."""
from __future__ import annotations

import html
from typing import Optional

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from backend.audit.selective import method_decision, split_positions
from backend.decisions.selective import answers, candidates, error_upper_bound, percent
from backend.schemas.audit import AuditResult
from backend.schemas.selective import ALPHA_HELP, CALIBRATION_FRACTION_HELP, DELTA_HELP, SelectiveDecision
from components.figure_config import figure_config

CALIBRATION_COLOR, HELD_OUT_COLOR, BOUND_COLOR = "#4c78a8", "#f58518", "rgba(76, 120, 168, 0.45)"
FIGURE_HELP = ("Each point is one threshold: how many items it answers (x) and how many of those are wrong (y), "
               "most confident first. Blue: the calibration split the threshold is chosen on, with its one-sided "
               "upper confidence bound at 1 − delta (dotted; a single threshold passes the binomial test exactly "
               "where this bound is at or under alpha). Orange: the held-out split, never used to choose. Dashed: "
               "alpha. The vertical line is the certified threshold. The error axis stops at 4 alpha: double-click the "
               "figure to see all of it.")


def _curve(score: np.ndarray, correct: np.ndarray, higher_is: str) -> tuple[np.ndarray, ...]:
    """(coverage, error of the answers given, answered, errors, threshold) of every candidate threshold (T,)."""
    found = candidates(score, correct, higher_is)
    return (found.answered / max(len(score), 1), found.errors / found.answered, found.answered, found.errors,
            found.threshold)


def selective_figure(calibration: tuple[np.ndarray, np.ndarray], held_out: tuple[np.ndarray, np.ndarray],
                     decision: SelectiveDecision) -> go.Figure:
    """Risk-coverage of both splits ((scores (N,), correctness (N,)) each), the calibration error's upper bound at
    1 - delta, alpha, and the certified threshold (when there is one)."""
    figure = go.Figure()
    name = html.escape(decision.method, quote=False)
    operator = "&gt;=" if decision.higher_is == "confident" else "&lt;="
    hover = (name + " " + operator + " %{customdata[0]:.4g}: %{customdata[1]} answered, %{customdata[2]} wrong<br>"
             "coverage %{x:.1%}, error %{y:.1%}<extra>%{fullData.name}</extra>")
    for label, (score, correct), color in (("calibration", calibration, CALIBRATION_COLOR),
                                           ("held out", held_out, HELD_OUT_COLOR)):
        if len(score) == 0:
            continue
        coverage, risk, answered, errors, threshold = _curve(score, correct, decision.higher_is)
        custom = np.stack([threshold, answered, errors], axis=1)
        figure.add_trace(go.Scatter(x=coverage, y=risk, mode="lines", name=f"{label} ({len(score)} items)",
                                    line=dict(color=color, shape="hv"), customdata=custom, hovertemplate=hover))
        if label == "calibration":
            bound = error_upper_bound(errors, answered, decision.delta)
            figure.add_trace(go.Scatter(x=coverage, y=bound, mode="lines", line=dict(color=BOUND_COLOR, dash="dot",
                                                                                     shape="hv"),
                                        name=f"calibration upper bound ({percent(1 - decision.delta)})",
                                        hovertemplate="coverage %{x:.1%}: error at most %{y:.1%}<extra></extra>"))
    figure.add_hline(y=decision.alpha, line_dash="dash", line_color="#444",
                     annotation_text=f"alpha = {percent(decision.alpha)}", annotation_position="top left")
    if decision.threshold is not None:
        figure.add_vline(x=decision.calibration_coverage, line_color="#2ca02c",
                         annotation_text=f"answer if {html.escape(decision.answer_if or '', quote=False)}",
                         annotation_position="top right")
        if decision.held_out_error is not None:
            figure.add_trace(go.Scatter(x=[decision.held_out_coverage], y=[decision.held_out_error], mode="markers",
                                        marker=dict(color=HELD_OUT_COLOR, size=11, symbol="diamond"),
                                        name="held out at the threshold",
                                        hovertemplate="coverage %{x:.1%}, error %{y:.1%}<extra></extra>"))
    figure.update_layout(height=380, xaxis_title="coverage (share of items answered, most confident first)",
                         yaxis_title="error rate of the answers given", xaxis_range=[0, 1],
                         yaxis_range=[0, error_axis_top(decision.alpha)],
                         xaxis_tickformat=".0%", yaxis_tickformat=".0%", margin=dict(t=30, b=40, l=60, r=20),
                         legend=dict(orientation="h", y=-0.25))
    return figure


def error_axis_top(alpha: float) -> float:
    """The top of the error axis: 4 alpha (at least 5 %, at most 100 %), so the band around alpha is readable; the
    bound and the first few answers' errors above it are clipped (plotly's autoscale shows them)."""
    return min(1.0, max(4 * alpha, 0.05))


def decision_frame(result: AuditResult, decision: SelectiveDecision) -> pd.DataFrame:
    """One row per item of the split: its index, split, the method's score, correctness (a person's override
    counts) and whether it is answered at the certified threshold (None when there is none)."""
    calibration, held_out = split_positions(decision, result.items)
    rows = []
    for split, positions in (("calibration", calibration), ("held out", held_out)):
        for position in positions:
            item = result.items[position]
            score = item.scores.get(decision.method)
            answered: Optional[bool] = None
            if decision.threshold is not None and score is not None:
                answered = bool(answers(score, decision.threshold, decision.higher_is))
            rows.append({"#": item.index, "split": split, "score": score, "correct": item.is_correct,
                         "answered": answered})
    return pd.DataFrame(rows, columns=["#", "split", "score", "correct", "answered"])


def split_arrays(frame: pd.DataFrame, split: str) -> tuple[np.ndarray, np.ndarray]:
    """(scores, correctness) of one split ("calibration" or "held out") of a decision_frame."""
    part = frame[frame["split"] == split]
    return part["score"].to_numpy(dtype=np.float64), part["correct"].to_numpy(dtype=np.float64)


def _level(value: float, low: float, high: float) -> float:
    """A request's setting as a number box's start value, inside the box's bounds."""
    return min(max(float(value), low), high)


def render_decision(decision: SelectiveDecision) -> None:
    """The threshold and its numbers with the guarantee, or the refusal."""
    if decision.refused:
        st.warning(f"No threshold for {decision.method}: {decision.refused}.")
        return
    left, middle, right, last = st.columns(4)
    symbol = "≥" if decision.higher_is == "confident" else "≤"
    left.metric(f"Answer when {decision.method}", f"{symbol} {decision.threshold:.4g}",
                help=f"answer only when {decision.answer_if} (the score in its own units); abstain otherwise")
    middle.metric("Held-out coverage", f"{decision.held_out_coverage:.1%}",
                  help=f"{decision.held_out_answered} of {decision.n_held_out} held-out items answered")
    right.metric("Held-out error", "–" if decision.held_out_error is None else f"{decision.held_out_error:.1%}",
                 help=f"{decision.held_out_errors} of the {decision.held_out_answered} answers given are wrong")
    last.metric("Calibration coverage", f"{decision.calibration_coverage:.1%}",
                help=f"{decision.calibration_answered} of {decision.n_calibration} answered, "
                     f"{decision.calibration_errors} wrong; binomial p = {decision.calibration_p_value:.4f}")
    st.success(decision.guarantee)


def render_selective(result: AuditResult, *, key: str) -> None:
    """Method, alpha, delta and calibration fraction; the decision, its figure, assumption, split and downloads."""
    names = [m.name for m in result.methods]
    first, second, third, fourth = st.columns(4)
    name = first.selectbox("Method", names, key=f"{key}_selective_method")
    alpha = second.number_input("alpha (error rate allowed)", 0.001, 0.999, _level(result.request.alpha, 0.001, 0.999),
                                0.01, format="%.3f", key=f"{key}_selective_alpha", help=ALPHA_HELP)
    delta = third.number_input("delta (chance it fails)", 0.001, 0.999, _level(result.request.delta, 0.001, 0.999),
                               0.01, format="%.3f", key=f"{key}_selective_delta", help=DELTA_HELP)
    fraction = fourth.number_input("Calibration fraction", 0.05, 0.95,
                                   _level(result.request.calibration_fraction, 0.05, 0.95), 0.05, format="%.2f",
                                   key=f"{key}_selective_fraction", help=CALIBRATION_FRACTION_HELP)
    method = next(m for m in result.methods if m.name == name)
    decision = method_decision(method, result.items, alpha=float(alpha), delta=float(delta), seed=result.request.seed,
                               calibration_fraction=float(fraction))
    render_decision(decision)
    frame = decision_frame(result, decision)
    if decision.n_calibration:
        figure = selective_figure(split_arrays(frame, "calibration"), split_arrays(frame, "held out"), decision)
        st.plotly_chart(figure, key=f"{key}_selective_figure", config=figure_config("answer-or-abstain"))
        st.caption(FIGURE_HELP)
    st.info(f"**Assumption.** {decision.assumption}")
    st.caption(f"How the threshold is chosen: {decision.procedure}. Fewest answers with which any threshold can "
               f"pass at these alpha and delta: {decision.min_answered} (all of them right).")
    with st.expander(f"The split: seed {decision.seed}, {decision.n_calibration} calibration items, "
                     f"{decision.n_held_out} held out"):
        st.dataframe(frame, hide_index=True, key=f"{key}_selective_split")
    left, right = st.columns(2)
    stem = f"answer-or-abstain-{result.audit_id}-{decision.method}"
    left.download_button("Decision as JSON", decision.model_dump_json(indent=1), file_name=f"{stem}.json",
                         mime="application/json", key=f"{key}_selective_json", on_click="ignore")
    right.download_button("Split and answers as CSV", frame.to_csv(index=False), file_name=f"{stem}.csv",
                          mime="text/csv", key=f"{key}_selective_csv", on_click="ignore")
