"""The Claims tab of an audit graded claim by claim: the claim-level scores' numbers (each claim one unit), the
reliability diagram and risk-coverage of a chosen score, every claim with its label, and one item's response
shaded claim by claim. Pure builders (claims_frame) and a thin render_claims_audit; widget keys start with `key`."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from backend.analyses import calibration as cal
from backend.audit.claim_grading import CLAIM_SCORES, claim_curves, claim_units
from backend.audit.report_figures import reliability_figure, risk_coverage_figure
from backend.audit.summary import confidences_of
from backend.schemas.audit import AuditResult
from components.audit_metrics_table import metrics_table, show_metrics
from components.claim_view import claim_html
from components.figure_config import figure_config

SCHEMES = ("equal_width", "equal_mass")


def claims_frame(result: AuditResult) -> pd.DataFrame:
    """One row per labelled claim: its item's number and id, the claim, its label and each claim score present."""
    names = list(result.claim_metrics)
    return pd.DataFrame([{"#": item.index, "item": item.id, "claim": grade.text, "correct": grade.correct,
                          **{name: grade.scores.get(name) for name in names}}
                         for item in result.items for grade in item.claims or ()])


def render_claims_audit(result: AuditResult, *, key: str) -> None:
    """The tab's content (see the module docstring)."""
    st.caption(f"{result.n_claims} labelled claims, {result.claim_accuracy:.1%} right; an item counts as right when "
               f"all its claims are. Below, each claim is one unit.")
    show_metrics(metrics_table(result.claim_metrics), key=f"{key}_claim_metrics")
    methods = [m for m in CLAIM_SCORES if m.name in result.claim_metrics]
    if not methods:
        return
    units = claim_units(result.items)
    method = st.selectbox("Claim score", methods, format_func=lambda m: f"{m.label} ({m.name})",
                          key=f"{key}_claim_score")
    confidence, correct, _kept, source = confidences_of(method, units, result.request.seed)
    st.caption(f"Higher {method.name} = more {method.higher_is}. Confidence used here: {source}.")
    if confidence is not None:
        panels = [cal.reliability_bins(confidence, correct, result.n_bins, s) for s in SCHEMES]
        st.plotly_chart(reliability_figure(panels), key=f"{key}_claim_reliability_{method.name}",
                        config=figure_config("claim-reliability"))
    st.plotly_chart(risk_coverage_figure(claim_curves(result)), key=f"{key}_claim_risk_coverage",
                    config=figure_config("claim-risk-coverage"))
    st.dataframe(claims_frame(result), hide_index=True, key=f"{key}_claims_table")
    graded = [item for item in result.items if item.claims]
    item = st.selectbox("Item", graded, format_func=lambda i: f"#{i.index} {i.id}: {i.question[:60]}",
                        key=f"{key}_claim_item")
    st.markdown(claim_html(item.answer, item.claims, method.name), unsafe_allow_html=True)
    st.caption("Each claim shaded by its doubt under the chosen score (red = most doubtful); its label: "
               + "; ".join(f"{n}. {'right' if g.correct else 'wrong'}" for n, g in enumerate(item.claims, 1)))
