"""The metrics table of an audit's methods (or of its claim-level scores): every number with its 95 % bootstrap
interval, or why it is undefined, beside it."""
from __future__ import annotations

from typing import Optional

import pandas as pd
import streamlit as st

from backend.schemas.audit import MethodMetrics

METRIC_COLUMNS = {"ECE": "ece", "MCE": "mce", "ACE": "ace", "class-wise ECE": "classwise_ece", "Brier": "brier",
                  "NLL": "nll", "all-class Brier": "multiclass_brier", "all-class NLL": "multiclass_nll",
                  "AUROC": "auroc", "AUPRC": "auprc", "AURC": "aurc", "PRR": "prr"}
CI_SUFFIX = " 95 % CI"


def interval_text(metrics: MethodMetrics, key: str) -> Optional[str]:
    """'low – high' of a metric's bootstrap interval, or why the metric is undefined, or None (no interval)."""
    if key in metrics.ci:
        low, high = metrics.ci[key]
        return f"{low:.4f} – {high:.4f}"
    if key in metrics.undefined:
        return f"undefined: {metrics.undefined[key]}"
    return None


def metrics_table(by_method: dict[str, MethodMetrics]) -> pd.DataFrame:
    """One row per method (in the mapping's order) with every number, its 95 % bootstrap interval (or why it is
    undefined) beside it, and the confidence definition."""
    rows = []
    for name, m in by_method.items():
        row = {"method": name, "higher is": m.higher_is, "confidence for ECE/Brier": m.confidence_source, "n": m.n}
        for column, key in METRIC_COLUMNS.items():
            row[column] = getattr(m, key)
            row[column + CI_SUFFIX] = interval_text(m, key)
        rows.append(row)
    return pd.DataFrame(rows).dropna(axis=1, how="all")


def show_metrics(frame: pd.DataFrame, *, key: str) -> None:
    """A metrics table (metrics_table) with its numbers to four decimals."""
    decimals = {column: st.column_config.NumberColumn(format="%.4f") for column in frame.columns
                if pd.api.types.is_float_dtype(frame[column])}
    st.dataframe(frame, hide_index=True, key=key, width="stretch", column_config=decimals)
