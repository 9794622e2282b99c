"""Streamlit views of an audit result: metrics, reliability (click a bin for its items), error detection,
recalibration, method agreement, items with overridable grading. Thin renderers over the figure builders of
backend.audit.report_figures (which the HTML report uses too); every widget key starts with the caller's key."""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np
import pandas as pd
import streamlit as st

from backend.analyses import calibration as cal
from backend.analyses import recalibration as rc
from backend.analyses.error_detection import risk_coverage
from backend.audit.report_figures import (agreement_figure, confidence_histogram_figure, reliability_figure,
                                         risk_coverage_figure)
from backend.audit.summary import FIT_FRACTION, RECALIBRATION_FAILED, caveats_by_text, confidences_of, method_arrays
from backend.schemas.audit import AuditMethodInfo, AuditResult
from components.audit_metrics_table import metrics_table, show_metrics
from components.claim_audit_view import render_claims_audit
from components.client_view import keyed_click_control, render_client_view, slider_control
from components.figure_config import figure_config
from components.label_issues_view import render_label_issues
from components.reliability_client import (TEMPERATURES, TRACES_PER_PANEL, bin_items, ece_html, live_figure,
                                           temperature_key, temperature_states)
from components.selective_view import render_selective

SCHEMES = ("equal_width", "equal_mass")
CLASSIFIER_COLUMNS = {"question": "image", "answer": "predicted", "accepted": "true class"}
BOOTSTRAP_NOTE = "1000 resamples from the audit's seed, confidences held fixed"
METRIC_HELP = ("ECE / MCE: expected / maximum |accuracy − confidence| over equal-width bins; ACE: the unweighted "
               "mean over equal-mass bins; Brier: mean (confidence − correct)²; NLL in nats. Lower is better for "
               "all "
               "of these. AUROC / AUPRC: how well the score flags wrong answers (higher is better); AURC: area under "
               "risk-coverage (lower is better); PRR: 1 = as good as an oracle, 0 = random.")


def metrics_frame(result: AuditResult) -> pd.DataFrame:
    """metrics_table of the audit's methods, in the order the audit lists them."""
    return metrics_table({info.name: result.metrics[info.name] for info in result.methods
                          if info.name in result.metrics})


def result_warnings(result: AuditResult) -> list[str]:
    """Every method's caveats, each said once, naming the methods it applies to when not all."""
    return [f"{text[0].upper()}{text[1:]}" if len(names) == len(result.metrics) else f"{', '.join(names)}: {text}"
            for text, names in caveats_by_text(result).items()]


def render_metrics(result: AuditResult, *, key: str) -> None:
    """Caveats, then the metrics table with what each number means."""
    for warning in result_warnings(result):
        st.warning(f"{warning}.")
    show_metrics(metrics_frame(result), key=f"{key}_metrics")
    classes = f" All-class Brier / NLL and class-wise ECE: {result.extra['class_probabilities']}." \
        if "class_probabilities" in result.extra else ""
    st.caption(f"{METRIC_HELP} Binning: {result.binning}. Confidence is top-label (the probability of the model's "
               f"own answer).{classes} 95 % CI: percentile bootstrap over the items ({BOOTSTRAP_NOTE}); where a "
               f"metric is undefined its CI column says why.")


def _method_picker(result: AuditResult, label: str, *, key: str) -> AuditMethodInfo:
    names = [m.name for m in result.methods]
    chosen = st.selectbox(label, names, key=key)
    return next(m for m in result.methods if m.name == chosen)


@st.fragment
def render_reliability(result: AuditResult, *, key: str) -> None:
    """Equal-width and equal-mass diagrams side by side; a click on a bar lists that bin's items, in the browser
    (components.reliability_client). A fragment: a method change reruns this tab only, not the whole page."""
    method = _method_picker(result, "Method", key=f"{key}_rel_method")
    confidence, correct, kept, source = confidences_of(method, result.items, result.request.seed)
    st.caption(f"Higher {method.name} = more {method.higher_is}. Confidence used here: {source}.")
    if confidence is None:
        st.info(f"No reliability diagram for {method.name}: {source}. Its ranking metrics are on the Error "
                f"detection tab.")
        return
    panels = [cal.reliability_bins(confidence, correct, result.n_bins, s) for s in SCHEMES]
    chart = f"{key}_reliability_{method.name}"
    st.plotly_chart(reliability_figure(panels), key=chart, config=figure_config("reliability"))
    st.caption("Bars: accuracy of the items in each confidence bin (n = items); red: the gap to the bin's mean "
               "confidence; dashed: perfect calibration. Click a bar to list its items.")
    listed = f"uq-{chart}-items"
    items = bin_items(panels, SCHEMES, confidence, kept,
                      lambda members, values: items_frame(result, members, {method.name: values}))
    render_client_view(f"{chart}_bins", controls=[keyed_click_control(
        chart, panel_id=listed, items=items, select=[TRACES_PER_PANEL * n for n in range(len(panels))])],
                       panels=[(listed, "")])
    histograms = {}
    for other in result.methods:
        values = confidences_of(other, result.items, result.request.seed)[0]
        if values is not None:
            histograms[other.name] = values
    st.plotly_chart(confidence_histogram_figure(histograms, n_bins=result.n_bins), key=f"{key}_histogram",
                    config=figure_config("confidence-histogram"))


def render_error_detection(result: AuditResult, *, key: str) -> None:
    """Risk-coverage curves of every method on one chart, with AURC, AUROC, AUPRC and PRR."""
    curves = {}
    for method in result.methods:
        score, correct, _ = method_arrays(result.items, method.name)
        if len(score):
            curves[method.name] = risk_coverage(score, correct, method.higher_is)
    st.plotly_chart(risk_coverage_figure(curves), key=f"{key}_risk_coverage", config=figure_config("risk-coverage"))
    st.caption("Keep only the most confident answers: risk is the error rate of what is kept. Ranking metrics use "
               "the raw scores, so scores that are not probabilities (entropies, log-likelihoods) are judged fairly.")
    frame = metrics_frame(result)
    st.dataframe(frame[[c for c in ("method", "higher is", "AUROC", "AUPRC", "AURC", "PRR") if c in frame]],
                 hide_index=True, key=f"{key}_ranking")


@st.fragment
def render_recalibration(result: AuditResult, *, key: str) -> None:
    """Temperature scaling fitted on a seeded split (before / after on the rest), a live temperature, Platt and
    isotonic maps for scores that are not probabilities. A fragment: the live temperature, the method and the
    maps compared rerun this tab only."""
    method = _method_picker(result, "Method", key=f"{key}_recal_method")
    score, correct, _ = method_arrays(result.items, method.name)
    if len(score) < 4 or correct.min() == correct.max():
        st.info("Recalibration needs at least 4 items with both right and wrong answers.")
        return
    fit, evaluate = rc.split_indices(len(score), FIT_FRACTION, result.request.seed)
    st.caption(f"Fitted on {len(fit)} items, judged on the other {len(evaluate)} (seed {result.request.seed}).")
    metrics = result.metrics.get(method.name)
    if metrics is not None and RECALIBRATION_FAILED in metrics.warnings:
        st.warning(f"{RECALIBRATION_FAILED[0].upper()}{RECALIBRATION_FAILED[1:]} (ECE on the held-out half "
                   f"{metrics.ece_eval_before:.4f} before, {metrics.ece_eval_after:.4f} after, T = "
                   f"{metrics.temperature:.3f} fitted on {len(fit)} items).")
    signed = score if method.higher_is == "confident" else -score
    maps: dict[str, np.ndarray] = {}
    if method.is_probability:
        temperature = rc.fit_binary_temperature(score[fit], correct[fit])
        maps["raw (a probability)"] = np.clip(score[evaluate], 0, 1)
        maps[f"temperature scaling, T = {temperature:.3f}"] = rc.apply_binary_temperature(score[evaluate],
                                                                                          temperature)
    else:
        st.caption(f"{method.name} is not a probability: it is mapped to one by Platt scaling or isotonic regression.")
    maps["Platt scaling"] = rc.fit_platt(signed[fit], correct[fit])(signed[evaluate])
    maps["isotonic regression"] = rc.fit_isotonic(signed[fit], correct[fit]).predict(signed[evaluate])
    names = list(maps)
    pick = st.multiselect("Compare", names, default=names[:2], key=f"{key}_recal_pick", max_selections=3)
    if pick:
        panels = [cal.reliability_bins(maps[n], correct[evaluate], result.n_bins) for n in pick]
        titles = [f"{n}: ECE {cal.expected_calibration_error(maps[n], correct[evaluate], result.n_bins):.3f}"
                  for n in pick]
        st.plotly_chart(reliability_figure(panels, titles), key=f"{key}_recal_figure",
                        config=figure_config("recalibration"))
    if method.is_probability:
        render_live_temperature(score, correct, result.n_bins, key=key)


def render_live_temperature(score: np.ndarray, correct: np.ndarray, n_bins: int, *, key: str) -> None:
    """A temperature slider and the reliability diagram of every item's confidence at it (score: (n,) confidences
    in [0, 1], correct: (n,) 0/1). Moving the slider redraws the diagram and its ECE in the browser
    (components.reliability_client: every slider value is computed beforehand)."""
    chart, ece = f"{key}_live_figure", f"uq-{key}-live-ece"
    start = 1.0
    render_client_view(f"{key}_temperature", controls=[slider_control(
        "temperature", "Try a temperature", [temperature_key(t) for t in TEMPERATURES],
        "confidence becomes sigmoid(logit(c) / T): T > 1 softens, T < 1 sharpens")],
                       panels=[(ece, ece_html(score, correct, n_bins, start))],
                       states={"temperature": temperature_states(score, correct, n_bins, chart, ece)},
                       initial={"temperature": temperature_key(start)})
    st.plotly_chart(live_figure(score, correct, n_bins, start), key=chart, config=figure_config("live-temperature"))


def render_agreement(result: AuditResult, *, key: str) -> None:
    """Spearman rank correlation between methods across the dataset."""
    if len(result.methods) < 2:
        st.info("Pick two or more methods to compare how they rank the items.")
        return
    st.plotly_chart(agreement_figure(result.rank_correlation), key=f"{key}_agreement",
                    config=figure_config("agreement"))
    st.caption("Spearman ρ of the raw scores over items where both methods have one; methods with opposite "
               "directions (confidence vs. uncertainty) agree when ρ is near −1.")


def is_classifier_audit(result: AuditResult) -> bool:
    """Whether every item was graded by its label (digits, labelled images) rather than by an answer's text."""
    return bool(result.items) and all(item.grading == "label" for item in result.items)


def bounds_text(bounds: Optional[list[float]]) -> str:
    """[lower, upper] of an estimated score as a table cell ("" for an exact one)."""
    return f"[{bounds[0]:.4g}, {bounds[1]:.4g}]" if bounds else ""


def items_frame(result: AuditResult, positions, extra: Optional[dict] = None) -> pd.DataFrame:
    """Items at these positions as a table (question and answer shown as plain text), with a "NAME bounds" column
    for each score that is an estimate on some item (a served model's entropy scores). Classifier audits (graded
    by their label) name the columns image, predicted and true class, without the similarity column."""
    rows = []
    bounded = [n for n in result.metrics if any(n in item.score_bounds for item in result.items)]
    for position in positions:
        item = result.items[position]
        row = {"#": item.index, "correct": item.is_correct, "question": item.question, "answer": item.answer,
               "accepted": " | ".join(item.answers), "graded by": item.grading,
               "similarity": item.similarity, **{n: item.scores.get(n) for n in result.metrics},
               **{f"{n} bounds": bounds_text(item.score_bounds.get(n)) for n in bounded}}
        rows.append(row)
    frame = pd.DataFrame(rows)
    for name, values in (extra or {}).items():
        frame[f"{name} confidence"] = values
    if is_classifier_audit(result):
        frame = frame.drop(columns="similarity", errors="ignore").rename(columns=CLASSIFIER_COLUMNS)
    return frame


def render_items(result: AuditResult, *, key: str, set_override: Callable[[int, Optional[bool]], None]) -> None:
    """Every item with its grading; untick or tick 'correct' to override the automatic verdict."""
    grading = "right when the predicted class is the item's label" if is_classifier_audit(result) else \
        (f"normalised alias match, else embedding similarity ≥ {result.request.grading_threshold} with an accepted "
         f"answer (all-MiniLM-L6-v2)")
    st.caption(f"Grading: {grading}. Tick or untick 'correct' to override; the metrics follow.")
    frame = items_frame(result, range(len(result.items)))
    edited = st.data_editor(frame, hide_index=True, disabled=[c for c in frame.columns if c != "correct"],
                            key=f"{key}_items_editor")
    for row, (before, after) in enumerate(zip(frame["correct"], edited["correct"])):
        if bool(before) != bool(after):
            item = result.items[row]
            set_override(item.index, None if bool(after) == item.correct else bool(after))
            st.rerun()


AUDIT_TABS = ["Reliability", "Error detection", "Recalibration", "Agreement", "Items"]


def render_audit_tabs(result: AuditResult, *, key: str, items: Callable[[], None],
                      export: Optional[Callable[[], None]] = None,
                      cascade: Optional[Callable[[], None]] = None,
                      compare: Optional[Callable[[], None]] = None) -> None:
    """The metrics table, then the audit's diagrams and tables in tabs; `items` draws the Items tab (editable on
    the Calibration page, read-only for a saved audit), a Label issues tab for classifier audits, an Answer or
    abstain tab (a threshold with a guarantee, components.selective_view), and `export`,
    when given, an Export tab (`cascade` and `compare`, when given, draw a Cascade and a Compare two audits tab
    before it)."""
    render_metrics(result, key=key)
    optional = {"Label issues": lambda: render_label_issues(result, key=key)} if result.label_issues is not None \
        else {}
    optional["Answer or abstain"] = lambda: render_selective(result, key=key)  # re-computed from the items
    if result.n_claims:
        optional["Claims"] = lambda: render_claims_audit(result, key=key)
    if cascade:
        optional["Cascade"] = cascade
    if compare:
        optional["Compare two audits"] = compare
    tabs = st.tabs(AUDIT_TABS + list(optional) + (["Export"] if export else []), key=f"{key}_tabs")
    with tabs[0]:
        render_reliability(result, key=key)
    with tabs[1]:
        render_error_detection(result, key=key)
    with tabs[2]:
        render_recalibration(result, key=key)
    with tabs[3]:
        render_agreement(result, key=key)
    with tabs[4]:
        items()
    for tab, draw in zip(tabs[len(AUDIT_TABS):], optional.values()):
        with tab:
            draw()
    if export:
        with tabs[-1]:
            export()
