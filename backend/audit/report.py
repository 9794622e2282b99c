"""A self-contained HTML report of an audit: figures (plotly.js inlined once), numbers, ids, settings, items.

Every string from the dataset or the model is HTML-escaped; the file opens offline in any browser.
"""
from __future__ import annotations

import html
import json
from datetime import datetime, timezone

import plotly.graph_objects as go

from backend.analyses.calibration import reliability_bins
from backend.analyses.error_detection import risk_coverage
from backend.audit.report_cascade import cascade_section
from backend.audit.report_claims import claims_section
from backend.audit.report_figures import agreement_figure, reliability_figure, risk_coverage_figure
from backend.audit.report_label_issues import label_issues_section
from backend.audit.report_selective import selective_section
from backend.audit.summary import caveats_by_text, confidences_of, method_arrays
from backend.schemas.audit import AuditResult, MethodMetrics

METRIC_COLUMNS = ["n", "ece", "mce", "ace", "brier", "nll", "classwise_ece", "multiclass_brier", "multiclass_nll",
                  "auroc", "auprc", "aurc", "prr", "temperature", "ece_eval_before", "ece_eval_after",
                  "confidence_source"]
STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:0.9em}td,th{border:1px solid #ccc;padding:3px 6px;text-align:left}
th{background:#f3f3f3}.wrong{background:#fdecea}.right{background:#eaf7ea}code{background:#f3f3f3;padding:0 3px}"""


def _cell(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4f}"
    return html.escape(str(value))


class _Figures:
    """Figures to HTML divs, plotly.js included in the first only."""

    def __init__(self) -> None:
        self.first = True

    def div(self, figure: go.Figure) -> str:
        out = figure.to_html(full_html=False, include_plotlyjs=self.first)
        self.first = False
        return out


def _metric_cell(metrics: MethodMetrics, column: str) -> str:
    """A metric's value with its 95 % bootstrap interval below it, or why it is undefined."""
    value = _cell(getattr(metrics, column))
    if column in metrics.ci:
        low, high = metrics.ci[column]
        return f"{value}<br><small>[{low:.4f}, {high:.4f}]</small>"
    if column in metrics.undefined:
        return f"{value}<br><small>{html.escape(metrics.undefined[column])}</small>"
    return value


def _metrics_table(by_method: dict[str, MethodMetrics]) -> str:
    head = "".join(f"<th>{c}</th>" for c in ["method", *METRIC_COLUMNS])
    rows = []
    for name, metrics in by_method.items():
        rows.append(f"<tr><td>{html.escape(name)}</td>" + "".join(f"<td>{_metric_cell(metrics, c)}</td>"
                                                                  for c in METRIC_COLUMNS) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _warnings(result: AuditResult) -> str:
    """Every method's caveats as a list, each once with the methods it applies to."""
    methods = caveats_by_text(result)
    if not methods:
        return ""
    entries = "".join(f"<li>{html.escape(', '.join(names))}: {html.escape(text)}</li>"
                      for text, names in methods.items())
    return f"<p><strong>Caveats</strong></p><ul class='caveats'>{entries}</ul>"


def _items_table(result: AuditResult) -> str:
    names = list(result.metrics)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in ["#", "question", "answer", "accepted", "correct",
                                                          "graded by", *names])
    rows = []
    for item in result.items:
        scores = "".join(f"<td>{_cell(item.scores.get(n))}</td>" for n in names)
        graded = item.grading + (" (overridden)" if item.override is not None else "")
        rows.append(f"<tr class='{'right' if item.is_correct else 'wrong'}'><td>{item.index}</td>"
                    f"<td>{html.escape(item.question)}</td><td>{html.escape(item.answer)}</td>"
                    f"<td>{html.escape(' | '.join(item.answers))}</td><td>{item.is_correct}</td>"
                    f"<td>{html.escape(graded)}</td>{scores}</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def render_report(result: AuditResult) -> str:
    """The report as one HTML string."""
    figures = _Figures()
    seed = result.request.seed
    sections = []
    for method in result.methods:
        confidence, correct, _kept, source = confidences_of(method, result.items, seed)
        if confidence is None:
            sections.append(f"<h3>{html.escape(method.label)}</h3><p>No calibration view: {html.escape(source)}.</p>")
            continue
        panels = [reliability_bins(confidence, correct, result.n_bins, scheme) for scheme in
                  ("equal_width", "equal_mass")]
        sections.append(f"<h3>{html.escape(method.label)} (<code>{html.escape(method.name)}</code>)</h3>"
                        f"<p>Higher = more {method.higher_is}. Confidence: {html.escape(source)}. "
                        f"{html.escape(method.description)} Paper: {html.escape(method.paper)}.</p>"
                        + figures.div(reliability_figure(panels)))
    curves = {}
    for method in result.methods:
        score, correct, _ = method_arrays(result.items, method.name)
        if len(score):
            curves[method.name] = risk_coverage(score, correct, method.higher_is)
    settings = json.dumps(result.request.model_dump(mode="json"), indent=1)
    generated = datetime.now(timezone.utc).isoformat(timespec="seconds")
    note = result.extra.get("class_probabilities")
    classes = f" Multiclass Brier / NLL and class-wise ECE: {html.escape(note)}." if note else ""
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>UQ Lens audit {html.escape(result.audit_id)}</title><style>{STYLE}</style></head><body>
<h1>Calibration audit</h1>
<p>Audit <code>{html.escape(result.audit_id)}</code> of model <code>{html.escape(result.model_id)}</code> on
dataset <code>{html.escape(result.dataset_id)}</code> (SHA-256 <code>{html.escape(result.dataset_sha256)}</code>):
{result.n} items, accuracy {result.accuracy:.4f}. Started {html.escape(result.created_at)} UTC, report written
{generated} UTC. Seed {seed}.</p>
<p>Binning: {html.escape(result.binning)}. Confidence is top-label (the probability the model gives its own
answer); scores that are not probabilities are mapped by Platt scaling out-of-fold before ECE / Brier / NLL, and
judged by ranking (AUROC, AUPRC of predicting a wrong answer, AURC, PRR as lm-polygraph defines it).{classes}</p>
<h2>Metrics</h2>{_warnings(result)}{_metrics_table(result.metrics)}
<p>Below each value: its 95 % percentile-bootstrap interval over the items (1000 resamples from seed {seed},
confidences held fixed), or why the metric is undefined.</p>
<h2>Reliability diagrams</h2>{''.join(sections)}
<h2>Risk-coverage</h2>{figures.div(risk_coverage_figure(curves)) if curves else '<p>No scores.</p>'}
{selective_section(result)}
<h2>Method agreement (Spearman rank correlation)</h2>{figures.div(agreement_figure(result.rank_correlation))}
{cascade_section(result, figures.div)}
{label_issues_section(result)}
{claims_section(result, _metrics_table, figures.div)}
<h2>Settings</h2><pre>{html.escape(settings)}</pre>
<h2>Items</h2>{_items_table(result)}
</body></html>"""
