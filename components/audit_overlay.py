"""Two audits overlaid: both reliability diagrams on one chart, both risk-coverage curves on another (A and B in
two colours, the legend naming model and method), and the table of metric differences B - A with their
paired-bootstrap intervals, a difference whose interval excludes 0 marked. Pure figure and table builders with a
thin renderer; every widget key starts with the caller's key. The Calibration page's Compare tab and the Saved
page draw a comparison with these."""
from __future__ import annotations

import html
from typing import Callable, Optional

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from backend.schemas.audit_compare import AuditComparison, MetricDifference, ReliabilityCurve
from components.figure_config import figure_config
from components.text_safety import markdown_literal

COLOURS = {"a": "#1f77b4", "b": "#d62728"}
MARK = "✱"
READING = ("B − A: a positive difference means B's number is higher; 'better' says which way is good. ECE / MCE / "
           "ACE / Brier / NLL read the calibration confidences (a probability score itself, else Platt scaling "
           "fitted out of fold on the paired items); AUROC / AUPRC / AURC / PRR the raw scores.")


def _literal(text: str) -> str:
    """text as plotly shows it literally (no tag in a model or method name is interpreted)."""
    return html.escape(text, quote=False)


def reliability_trace(curve: ReliabilityCurve, label: str, colour: str) -> go.Scatter:
    """Accuracy against mean confidence of each non-empty bin, the marker's area growing with its items."""
    kept = [i for i, n in enumerate(curve.counts) if n > 0]
    counts = [curve.counts[i] for i in kept]
    largest = max(counts) if counts else 1
    sizes = [8 + 16 * (n / largest) ** 0.5 for n in counts]
    return go.Scatter(
        x=[curve.mean_confidence[i] for i in kept], y=[curve.accuracy[i] for i in kept], mode="lines+markers",
        name=_literal(label), line=dict(color=colour), marker=dict(color=colour, opacity=0.7, size=sizes),
        customdata=[[curve.edges[i], curve.edges[i + 1], curve.counts[i]] for i in kept],
        hovertemplate=f"{_literal(label)}<br>bin [%{{customdata[0]:.2f}}, %{{customdata[1]:.2f}}): "
                      f"%{{customdata[2]}} items<br>mean confidence %{{x:.3f}}<br>accuracy %{{y:.3f}}<extra></extra>")


def overlay_reliability_figure(comparison: AuditComparison) -> go.Figure:
    """Both sides' reliability diagrams on the paired items (a side without confidences is left out), with the
    diagonal of perfect calibration."""
    figure = go.Figure()
    for side in ("a", "b"):
        curve = getattr(comparison.reliability, side)
        if curve is not None:
            figure.add_trace(reliability_trace(curve, getattr(comparison, side).label, COLOURS[side]))
    figure.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dash", color="gray"),
                                name="perfect calibration", hoverinfo="skip"))
    figure.update_layout(height=400, xaxis=dict(title="mean confidence of the bin", range=[-0.03, 1.03]),
                         yaxis=dict(title="accuracy of the bin", range=[-0.03, 1.07]),
                         margin=dict(t=30, b=40, l=50, r=20), legend=dict(orientation="h", y=-0.2))
    return figure


def overlay_risk_coverage_figure(comparison: AuditComparison) -> go.Figure:
    """Both sides' risk (error rate of the kept items) against coverage, most confident first, AURC in the
    legend."""
    figure = go.Figure()
    for side in ("a", "b"):
        curve, label = getattr(comparison.risk_coverage, side), getattr(comparison, side).label
        figure.add_trace(go.Scatter(x=curve.coverage, y=curve.risk, mode="lines", line=dict(color=COLOURS[side]),
                                    name=f"{_literal(label)} (AURC {curve.aurc:.3f})",
                                    hovertemplate=f"{_literal(label)}<br>coverage %{{x:.2f}}<br>risk %{{y:.3f}}"
                                                  f"<extra></extra>"))
    figure.update_layout(height=360, xaxis=dict(title="coverage (share of paired items kept, most confident first)",
                                                range=[0, 1]),
                         yaxis=dict(title="risk (error rate of kept items)"), margin=dict(t=30, b=40, l=50, r=20),
                         legend=dict(orientation="h", y=-0.25))
    return figure


def verdict(row: MetricDifference) -> str:
    """'✱ B better' / '✱ A better' when the interval excludes 0 (which side by the metric's good direction), ''
    otherwise."""
    if not row.excludes_zero or row.difference is None:
        return ""
    b_higher = row.difference > 0
    return f"{MARK} {'B' if b_higher == (row.better == 'higher') else 'A'} better"


def differences_frame(comparison: AuditComparison) -> pd.DataFrame:
    """One row per metric: A, B, B − A, the interval's ends, p_boot, the verdict and why a number is missing."""
    level = f"{comparison.level:.0%}"
    rows = [{"metric": m.label, "better": m.better, "A": m.a, "B": m.b, "B − A": m.difference,
             f"{level} CI low": m.ci_low, f"{level} CI high": m.ci_high, "p_boot": m.p_boot,
             "CI excludes 0": verdict(m), "note": m.undefined or ""} for m in comparison.metrics]
    return pd.DataFrame(rows)


def pairing_text(comparison: AuditComparison) -> str:
    """One sentence: what is paired, what is left out, and the bootstrap's settings."""
    left = [f"{comparison.only_a} only in A" if comparison.only_a else "",
            f"{comparison.only_b} only in B" if comparison.only_b else "",
            f"{comparison.unscored} without both scores" if comparison.unscored else ""]
    left_out = "; left out: " + ", ".join(t for t in left if t) if any(left) else ""
    return (f"{comparison.paired_items} paired items of {comparison.dataset_id} (paired by item id){left_out}. "
            f"Intervals: {comparison.level:.0%} percentile bootstrap of B − A over {comparison.n_boot} paired "
            f"resamples (the same items for both sides), seed {comparison.seed}; p_boot = 2 min(P(d* ≤ 0), "
            f"P(d* ≥ 0)).")


def render_downloads(comparison: AuditComparison, *, key: str) -> None:
    """The table as CSV and the whole comparison as JSON (each made only when clicked)."""
    name = f"audit-comparison-{comparison.a.audit_id}-{comparison.a.method}-{comparison.b.audit_id}-" \
           f"{comparison.b.method}"
    left, right = st.columns(2)
    left.download_button("Differences as CSV", lambda: differences_frame(comparison).to_csv(index=False),
                         file_name=f"{name}.csv", mime="text/csv", key=f"{key}_csv", on_click="ignore")
    right.download_button("Comparison as JSON", lambda: comparison.model_dump_json(indent=1),
                          file_name=f"{name}.json", mime="application/json", key=f"{key}_json", on_click="ignore")


def render_audit_comparison(comparison: AuditComparison, *, key: str,
                            save: Optional[Callable[[], None]] = None) -> None:
    """Headline, the overlaid diagrams, the differences table with what it means, the notes and the downloads;
    `save`, when given, draws a save form under them."""
    st.markdown(f"**A**: {markdown_literal(comparison.a.label[3:])} (audit {comparison.a.audit_id}, accuracy "
                f"{comparison.a.accuracy:.1%}) · **B**: {markdown_literal(comparison.b.label[3:])} (audit "
                f"{comparison.b.audit_id}, accuracy {comparison.b.accuracy:.1%})")
    st.caption(pairing_text(comparison))
    for note in comparison.notes:
        st.caption(f"{note[0].upper()}{note[1:]}.")
    frame = differences_frame(comparison)
    decimals = {column: st.column_config.NumberColumn(format="%.4f") for column in frame.columns
                if pd.api.types.is_float_dtype(frame[column])}
    st.dataframe(frame, hide_index=True, key=f"{key}_table", width="stretch", column_config=decimals)
    st.caption(f"{MARK}: the interval of B − A excludes 0. {READING}")
    left, right = st.columns(2)
    with left:
        st.markdown("**Reliability** (paired items, equal-width bins)")
        st.plotly_chart(overlay_reliability_figure(comparison), key=f"{key}_reliability",
                        config=figure_config("compare-reliability"))
        missing = [getattr(comparison, s) for s in ("a", "b") if getattr(comparison.reliability, s) is None]
        for side in missing:
            st.caption(f"No reliability diagram for {side.label}: {side.confidence_source}.")
    with right:
        st.markdown("**Risk-coverage** (paired items)")
        st.plotly_chart(overlay_risk_coverage_figure(comparison), key=f"{key}_risk_coverage",
                        config=figure_config("compare-risk-coverage"))
    st.caption(f"Binning: {comparison.binning}. Marker size: items in the bin. A: {comparison.a.confidence_source}; "
               f"B: {comparison.b.confidence_source}.")
    render_downloads(comparison, key=key)
    if save:
        save()
