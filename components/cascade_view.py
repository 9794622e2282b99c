"""The Cascade tab of an audit: pick a second model audited on the same items, see the accuracy of deferring the
small model's least sure answers to it at every deferral rate (each rule against the oracle and random deferral,
with the cost saved), or why there is no cascade and a button to run the second audit. A thin renderer over
backend.audit.report_cascade's figure and table (the HTML report draws the same); every widget key starts with
the caller's key."""
from __future__ import annotations

from typing import Callable

import pandas as pd
import streamlit as st

from backend.audit.report_cascade import cascade_figure, cascade_rows, cascade_summary
from backend.schemas.cascade import CascadeResult
from components.figure_config import figure_config

SHOWN_RULES = 3
READING = ("Accuracy and area: higher is better, in [0, 1]; no rule beats the oracle at any rate, and a rule "
           "below random ranks the answers worse than chance. Share of oracle gain: 1 = the oracle, 0 = random.")
INTRO = ("A cascade (Gupta et al. 2024, Language Model Cascades: Token-level uncertainty and beyond): the audited "
         "model answers every item, and the share it is least sure of goes to a second, larger model instead. Each "
         "rule ranks the answers by an uncertainty: token rules by the answer tokens' negative log-probabilities "
         "(mean, sum, max, quantiles), method rules by the audit's own scores.")


def cascade_frame(cascade: CascadeResult) -> pd.DataFrame:
    """The rules' table: area, share of the oracle's gain over random, accuracy at 10-50 % deferral, where each
    matches the large model (and the cost saved there)."""
    return pd.DataFrame(cascade_rows(cascade))


def render_curves(cascade: CascadeResult, *, key: str) -> None:
    """Headline numbers, the curves of the chosen rules with the oracle and random deferral, the assumption and
    the table."""
    best = cascade.best()
    left, middle, right = st.columns(3)
    left.metric(f"{cascade.small_model} alone", f"{cascade.small_accuracy:.1%}")
    middle.metric(f"{cascade.large_model} alone", f"{cascade.large_accuracy:.1%}")
    if best is not None:
        right.metric("Best rule, 20 % deferred", f"{best.accuracy_at['0.2']:.1%}",
                     f"{best.accuracy_at['0.2'] - cascade.random.accuracy_at['0.2']:+.1%} vs random ({best.name})",
                     help=f"{best.name}: the largest area, {best.area:.3f} (random {cascade.random.area:.3f}, "
                          f"oracle {cascade.oracle.area:.3f})")
    names = [c.name for c in cascade.rules]
    chosen = st.multiselect("Rules", names, default=names[:SHOWN_RULES], key=f"{key}_rules",
                            help="best area first; the oracle (dashed) and random deferral (dotted) are always drawn")
    st.plotly_chart(cascade_figure(cascade, chosen), key=f"{key}_figure", config=figure_config("cascade"))
    st.caption(f"{cascade_summary(cascade)} {READING} Assumes: {cascade.assumption}")
    for note in cascade.notes:
        st.caption(f"{note[0].upper()}{note[1:]}.")
    frame = cascade_frame(cascade)
    decimals = {column: st.column_config.NumberColumn(format="%.4f") for column in frame.columns
                if pd.api.types.is_float_dtype(frame[column])}
    st.dataframe(frame, hide_index=True, key=f"{key}_table", width="stretch", column_config=decimals)


def render_cascade(*, key: str, models: list[str], read: Callable[[str], CascadeResult],
                   run: Callable[[str], None]) -> None:
    """The tab: a box of the other models (none chosen at first, so nothing is read until one is), then the chosen
    one's cascade (read(model)), or its refusal with a button that runs the second model's audit of the same items
    (run(model), which reruns the page)."""
    st.caption(INTRO)
    if not models:
        st.info("No cascade: no second model of this kind is registered. Register a larger one (UQLENS_TEXT_MODELS "
                "or a models file), audit it on the same dataset, and come back.")
        return
    model = st.selectbox("Defer to", models, index=None, placeholder="Choose the second (larger) model",
                         key=f"{key}_model",
                         help="the second model: its own audit of the same items (the same settings) is used")
    if model is None:
        return
    cascade = read(model)
    if cascade.refused:
        st.info(f"No cascade: {cascade.refused}")
        if cascade.large_audit_id is not None and st.button(f"Run the audit of {model} on the same items",
                                                            key=f"{key}_run", type="primary"):
            run(model)
        return
    render_curves(cascade, key=key)
