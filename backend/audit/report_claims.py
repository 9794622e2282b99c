"""The HTML report's claims section (audits of datasets with claim labels): the claim-level scores' numbers with
each claim one unit, their risk-coverage curves, and every claim with its label and scores. Every string from the
dataset is HTML-escaped."""
from __future__ import annotations

import html
from typing import Callable

import plotly.graph_objects as go

from backend.audit.claim_grading import CLAIM_SCORES, claim_curves
from backend.audit.report_figures import risk_coverage_figure
from backend.schemas.audit import AuditResult, MethodMetrics


def _value(value) -> str:
    return "–" if value is None else f"{value:.4f}"


def claims_table(result: AuditResult) -> str:
    """Every labelled claim: its item, text, label and each claim score present."""
    names = list(result.claim_metrics)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in ["#", "item", "claim", "correct", *names])
    rows = []
    for item in result.items:
        for grade in item.claims or ():
            cells = "".join(f"<td>{_value(grade.scores.get(n))}</td>" for n in names)
            rows.append(f"<tr class='{'right' if grade.correct else 'wrong'}'><td>{item.index}</td>"
                        f"<td>{html.escape(item.id)}</td><td>{html.escape(grade.text)}</td><td>{grade.correct}</td>"
                        f"{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def claims_section(result: AuditResult, metrics_table: Callable[[dict[str, MethodMetrics]], str],
                   figure_div: Callable[[go.Figure], str]) -> str:
    """The section's HTML, empty for an audit without claim labels."""
    if not result.n_claims:
        return ""
    directions = "; ".join(f"{m.name}: higher = more {m.higher_is}" for m in CLAIM_SCORES
                           if m.name in result.claim_metrics)
    return (f"<h2>Claims</h2><p>{result.n_claims} labelled claims, {result.claim_accuracy:.1%} right; an item is "
            f"right when all its claims are. Each claim is one unit below ({html.escape(directions)}).</p>"
            f"{metrics_table(result.claim_metrics)}{figure_div(risk_coverage_figure(claim_curves(result)))}{claims_table(result)}")
