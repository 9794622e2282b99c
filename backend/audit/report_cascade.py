"""A cascade's figure, table and HTML report section (pure: plotly and strings, no Streamlit). The HTML report
(backend.audit.report) and the Calibration page's Cascade tab (components.cascade_view) both use them."""
from __future__ import annotations

import html
from typing import Callable, Optional

import plotly.graph_objects as go

from backend.decisions.cascade import REPORT_RATES
from backend.schemas.audit import AuditResult
from backend.schemas.cascade import CascadeCurve, CascadeResult

REFERENCE_STYLE = {"oracle": dict(color="black", dash="dash"), "random": dict(color="gray", dash="dot")}


def _literal(text: str) -> str:
    """text as plotly shows it literally (no tag in a model or method name is interpreted)."""
    return html.escape(text, quote=False)


def _trace(cascade: CascadeResult, curve: CascadeCurve) -> go.Scatter:
    """One curve: accuracy at each deferral rate, the cost saved in its hover."""
    line = REFERENCE_STYLE.get(curve.kind)
    return go.Scatter(x=cascade.deferral_rate, y=curve.accuracy, mode="lines", name=f"{_literal(curve.name)} "
                      f"(area {curve.area:.3f})", line=line, customdata=cascade.cost_saved,
                      hovertemplate=f"{_literal(curve.name)}<br>deferred %{{x:.0%}}: accuracy %{{y:.3f}}<br>"
                                    f"%{{customdata:.0%}} of items not sent to the large model<extra></extra>")


def cascade_figure(cascade: CascadeResult, rules: Optional[list[str]] = None) -> go.Figure:
    """Accuracy against deferral rate for each rule (all, or those named), with the oracle (dashed) and random
    deferral (dotted); the top axis reads the same rates as the cost saved (share of items the large model is not
    asked)."""
    figure = go.Figure()
    for curve in cascade.rules:
        if rules is None or curve.name in rules:
            figure.add_trace(_trace(cascade, curve))
    for reference in (cascade.oracle, cascade.random):
        if reference is not None:
            figure.add_trace(_trace(cascade, reference))
    ticks = [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    figure.update_layout(
        height=400, margin=dict(t=60, b=40, l=50, r=20), legend=dict(orientation="h", y=-0.25),
        xaxis=dict(title=f"deferral rate (share of items sent to {_literal(cascade.large_model)})", range=[0, 1],
                   tickformat=".0%"),
        xaxis2=dict(overlaying="x", side="top", range=[0, 1], tickvals=ticks,
                    ticktext=[f"{1 - t:.0%}" for t in ticks], title="cost saved (items answered by the small "
                                                                    "model alone)"),
        yaxis=dict(title="cascade accuracy"))
    figure.add_trace(go.Scatter(x=[0, 1], y=[None, None], xaxis="x2", showlegend=False, hoverinfo="skip"))
    return figure


def cascade_rows(cascade: CascadeResult) -> list[dict]:
    """One row per rule, then the oracle and random deferral: area, share of the oracle's gain, accuracy at the
    report rates, and the rate (and cost saved) at which it matches the large model."""
    rows = []
    for curve in [*cascade.rules, *(c for c in (cascade.oracle, cascade.random) if c is not None)]:
        row = {"rule": curve.name, "kind": curve.kind, "area": curve.area, "share of oracle gain": curve.oracle_share}
        row.update({f"accuracy at {float(r):.0%}": curve.accuracy_at.get(f"{r:g}") for r in REPORT_RATES})
        row.update({"matches large at": curve.reaches_large_at, "cost saved there": 1 - curve.reaches_large_at,
                    "unscored": curve.unscored, "what it ranks by": curve.description})
        rows.append(row)
    return rows


def _table(rows: list[dict]) -> str:
    def cell(value) -> str:
        if value is None:
            return "–"
        return f"{value:.4f}" if isinstance(value, float) else html.escape(str(value))

    head = "".join(f"<th>{html.escape(k)}</th>" for k in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row.values()) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def cascade_summary(cascade: CascadeResult) -> str:
    """One sentence: the two models, their accuracies alone, and what the cost saved counts."""
    return (f"{cascade.small_model} answers each of the {cascade.n} paired items (accuracy "
            f"{cascade.small_accuracy:.4f}); the share it is least sure of is deferred to {cascade.large_model} "
            f"(accuracy {cascade.large_accuracy:.4f} alone, audit {cascade.large_audit_id}). Cost saved: "
            f"{cascade.cost_note}.")


def cascade_section(result: AuditResult, div: Callable[[go.Figure], str]) -> str:
    """The report's Cascade section ("" without a cascade): the refusal, or the summary, figure and table."""
    cascade = result.cascade
    if cascade is None:
        return ""
    title = f"<h2>Cascade: {html.escape(cascade.small_model)} deferring to {html.escape(cascade.large_model)}</h2>"
    if cascade.refused:
        return f"{title}<p><strong>No cascade.</strong> {html.escape(cascade.refused)}</p>"
    notes = "".join(f"<p>{html.escape(note)}.</p>" for note in cascade.notes)
    return (f"{title}<p>{html.escape(cascade_summary(cascade))}</p><p>Assumes: {html.escape(cascade.assumption)}"
            f"</p>{notes}{div(cascade_figure(cascade))}{_table(cascade_rows(cascade))}"
            f"<p>Accuracy and area: higher is better, in [0, 1]; no rule beats the oracle at any rate. Share of "
            f"oracle gain: (area - random's) / (oracle's - random's). Rules: Gupta et al. 2024, Language Model Cascades: Token-level uncertainty and beyond. Accuracy "
            f"at a rate between grid points k / n is linear (the boundary item deferred with the remaining "
            f"probability); ties in a rule's score defer the earlier item first.</p>")
