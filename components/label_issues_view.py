"""The Label issues tab of a classifier audit: the ranked items whose given label is likely wrong (Confident
Learning, by cleanlab), the image and class probabilities of the one picked, what was assumed, the refusal when the
data does not allow it, and the list as CSV. Pure builders (frame, CSV, scores) under a thin renderer; every widget
key starts with the caller's key."""
from __future__ import annotations

import base64
from typing import Optional

import pandas as pd
import streamlit as st

from backend.schemas.audit import AuditResult
from backend.schemas.image import ClassScore
from backend.schemas.label_issues import LabelIssue, LabelIssueReport
from components.class_probabilities import render_class_probabilities

TOP_CLASSES = 10
HELP = ("Each listed item's given label is likely wrong: the model puts it, confidently, in another of the "
        "dataset's classes. Label quality is the model's probability of the given label (lower = more likely "
        "wrong); probabilities are over the dataset's classes.")


def label_issues_frame(report: LabelIssueReport) -> pd.DataFrame:
    """One row per likely issue, most likely wrong first; an 'other classes' column for image audits whose model
    has classes outside the dataset."""
    rows = [{"rank": i.rank, "#": i.index, "id": i.id, "given label": i.given_name, "p(given)": i.given_prob,
             "most likely": i.predicted_name, "p(most likely)": i.predicted_prob, "label quality": i.quality,
             "other classes": i.other_mass, "model's own answer": i.model_answer} for i in report.issues]
    frame = pd.DataFrame(rows, columns=["rank", "#", "id", "given label", "p(given)", "most likely",
                                        "p(most likely)", "label quality", "other classes", "model's own answer"])
    return frame.dropna(axis=1, how="all") if rows else frame


def label_issues_csv(report: LabelIssueReport) -> str:
    """The list as CSV, with every class probability as a column 'p(NAME)'."""
    frame = label_issues_frame(report)
    probs = pd.DataFrame([i.probs for i in report.issues], columns=[f"p({n})" for n in report.class_names])
    return pd.concat([frame.reset_index(drop=True), probs], axis=1).to_csv(index=False)


def issue_scores(issue: LabelIssue, names: list[str], top: int = TOP_CLASSES) -> list[ClassScore]:
    """The issue's `top` most likely dataset classes, most likely first, for the probability bars."""
    return [ClassScore(label=names[k], index=k, prob=issue.probs[k]) for k in issue.top_classes(top)]


def thumbnail_bytes(issue: LabelIssue) -> Optional[bytes]:
    """The image bytes of an issue's data: URL thumbnail, or None when it has none."""
    if not issue.thumbnail or ";base64," not in issue.thumbnail:
        return None
    return base64.b64decode(issue.thumbnail.split(";base64,", 1)[1])


def issue_title(issue: LabelIssue) -> str:
    """How the picker names an issue."""
    return (f"#{issue.rank}: {issue.id}, labelled {issue.given_name} ({issue.given_prob:.3f}), most likely "
            f"{issue.predicted_name} ({issue.predicted_prob:.3f})")


def render_assumptions(report: LabelIssueReport) -> None:
    """The caveats, what the result assumes, and the method (in an expander)."""
    for text in report.warnings:
        st.warning(f"{text[0].upper()}{text[1:]}.")
    st.caption("Assumes: " + " ".join(report.assumptions))
    with st.expander("How these were found"):
        st.markdown(f"{report.method}.")


def render_issue(issue: LabelIssue, report: LabelIssueReport, *, key: str) -> None:
    """The picked issue's image beside its class probabilities."""
    left, right = st.columns([1, 3])
    image = thumbnail_bytes(issue)
    if image is not None:
        left.image(image, caption=issue.id, width=128)
    else:
        left.caption(f"No image kept for {issue.id} (only the first issues carry one).")
    other = f" The model gives {issue.other_mass:.3f} to its classes outside the dataset." \
        if issue.other_mass is not None else ""
    left.caption(f"Given label: {issue.given_name}; the model's own answer: {issue.model_answer}.{other}")
    with right:
        render_class_probabilities(issue_scores(issue, report.class_names), key=f"{key}_label_issue",
                                   title=f"Model's probabilities over the dataset's classes (#{issue.rank})")


def render_label_issues(result: AuditResult, *, key: str) -> None:
    """The tab: the refusal, or the ranked table, the picked issue and the CSV download."""
    report = result.label_issues
    if report is None:
        st.info("Label issues need class probabilities: only classifier audits (digits, labelled images) have them.")
        return
    if report.refused:
        st.warning(f"No label issues looked for: {report.refused}.")
        render_assumptions(report)
        return
    if not report.issues:
        st.success(f"No likely label issue among {report.n_items} items.")
        render_assumptions(report)
        return
    st.markdown(f"**{len(report.issues)} of {report.n_items} items** have a given label that is likely wrong, most "
                f"likely first.")
    st.caption(HELP)
    st.dataframe(label_issues_frame(report), hide_index=True, key=f"{key}_label_issues", width="stretch",
                 column_config={c: st.column_config.NumberColumn(format="%.3f")
                                for c in ("p(given)", "p(most likely)", "label quality", "other classes")})
    st.download_button("Label issues as CSV", lambda: label_issues_csv(report),
                       file_name=f"label-issues-{result.audit_id}.csv", mime="text/csv",
                       key=f"{key}_label_issues_csv", on_click="ignore")
    by_rank = {issue.rank: issue for issue in report.issues}
    rank = st.selectbox("Look at", list(by_rank), format_func=lambda r: issue_title(by_rank[r]),
                        key=f"{key}_label_issue_pick")
    render_issue(by_rank[rank], report, key=key)
    render_assumptions(report)
