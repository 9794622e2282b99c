"""The HTML report's Label issues section: the ranked likely label issues of a classifier audit, each with its image
and the model's most likely classes, what was assumed, or why none were looked for.

Every string from the dataset or the model is HTML-escaped; an image is embedded only when it is a base64 PNG or
JPEG data: URL (what backend.audit.label_issues_audit makes), so nothing else can reach an attribute.
"""
from __future__ import annotations

import html
import re

from backend.schemas.audit import AuditResult
from backend.schemas.label_issues import LabelIssue, LabelIssueReport

MAX_ROWS = 200
TOP_CLASSES = 3
IMAGE_URL = re.compile(r"^data:image/(png|jpeg);base64,[A-Za-z0-9+/]+=*$")
COLUMNS = ["rank", "image", "#", "id", "given label", "p(given)", "most likely (dataset classes)", "label quality",
           "other classes", "model's own answer", f"top {TOP_CLASSES} classes"]


def image_cell(issue: LabelIssue) -> str:
    """An <img> of the issue's thumbnail, or a dash when it has none (or it is not a PNG / JPEG data: URL)."""
    if issue.thumbnail is None or not IMAGE_URL.match(issue.thumbnail):
        return "–"
    return f"<img src=\"{issue.thumbnail}\" alt=\"{html.escape(issue.id)}\" style=\"max-width:96px;max-height:96px\">"


def top_classes(issue: LabelIssue, names: list[str]) -> str:
    """The issue's TOP_CLASSES most likely dataset classes with their probabilities, escaped."""
    return "<br>".join(f"{html.escape(names[k])}: {issue.probs[k]:.3f}" for k in issue.top_classes(TOP_CLASSES))


def issue_row(issue: LabelIssue, names: list[str], with_other: bool) -> str:
    """One table row of an issue (with the 'other classes' cell when with_other)."""
    other = ["–" if issue.other_mass is None else f"{issue.other_mass:.3f}"] if with_other else []
    cells = [str(issue.rank), image_cell(issue), str(issue.index), html.escape(issue.id),
             html.escape(issue.given_name), f"{issue.given_prob:.3f}",
             f"{html.escape(issue.predicted_name)} ({issue.predicted_prob:.3f})", f"{issue.quality:.4f}", *other,
             html.escape(issue.model_answer), top_classes(issue, names)]
    return "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"


def assumptions_html(report: LabelIssueReport) -> str:
    """The method, the assumptions and the caveats, escaped."""
    caveats = "".join(f"<li>Caveat: {html.escape(text)}.</li>" for text in report.warnings)
    assumed = "".join(f"<li>{html.escape(text)}</li>" for text in report.assumptions)
    return f"<p>{html.escape(report.method)}.</p><ul>{assumed}{caveats}</ul>"


def label_issues_section(result: AuditResult) -> str:
    """The section's HTML ("" for an audit without class probabilities: questions, precomputed scores)."""
    report = result.label_issues
    if report is None:
        return ""
    head = "<h2>Label issues (Confident Learning)</h2>"
    if report.refused:
        return f"{head}<p>Not looked for: {html.escape(report.refused)}.</p>{assumptions_html(report)}"
    if not report.issues:
        return f"{head}<p>No likely label issue among {report.n_items} items.</p>{assumptions_html(report)}"
    shown = report.issues[:MAX_ROWS]
    more = (f" The first {MAX_ROWS} are listed; the JSON export has all {len(report.issues)}."
            if len(report.issues) > MAX_ROWS else "")
    with_other = any(issue.other_mass is not None for issue in report.issues)
    columns = [c for c in COLUMNS if with_other or c != "other classes"]
    table = ("<table><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in columns) + "</tr>"
             + "".join(issue_row(issue, report.class_names, with_other) for issue in shown) + "</table>")
    return (f"{head}<p>{len(report.issues)} of {report.n_items} items have a given label that is likely wrong, most "
            f"likely first. Probabilities are over the dataset's {report.n_classes} classes.{more}</p>"
            f"{assumptions_html(report)}{table}")
