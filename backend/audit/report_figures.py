"""Pure plotly builders for audits: reliability diagrams, confidence histogram, risk-coverage, method agreement.

No Streamlit here: the HTML report (backend.audit.report, written by `python -m backend audit --html`) and the
app's Calibration & audits page (components.audit_views) both draw with these builders. Method names and labels
that come from uploaded files are escaped, since plotly reads a subset of HTML in labels (<b>, <br>, <a ...>).
"""
from __future__ import annotations

import html
from typing import Mapping, Optional, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from backend.analyses.calibration import ReliabilityBins
from backend.analyses.error_detection import RiskCoverage

SCHEME_TITLES = {"equal_width": "Equal-width bins", "equal_mass": "Equal-mass bins"}
BAR_COLOR = "#4c78a8"
GAP_COLOR = "rgba(228, 87, 86, 0.35)"


def _literal(text: str) -> str:
    """text as plotly shows it literally: &, < and > escaped, so no tag in a label is interpreted."""
    return html.escape(text, quote=False)


def bin_bar_values(bins: ReliabilityBins) -> dict[str, list]:
    """The bars' numbers: at each bin's centre (x), as wide as the bin, as high as its accuracy (0 when empty),
    labelled with its count, customdata (bin, count, mean confidence, low edge, high edge) per bar."""
    centres = (bins.edges[:-1] + bins.edges[1:]) / 2
    custom = np.stack([np.arange(len(centres)), bins.counts, np.nan_to_num(bins.mean_confidence),
                       bins.edges[:-1], bins.edges[1:]], axis=1)
    return {"x": centres.tolist(), "y": np.nan_to_num(bins.accuracy).tolist(), "width": np.diff(bins.edges).tolist(),
            "text": [f"n={c}" for c in bins.counts], "customdata": custom.tolist()}


def gap_bar_values(bins: ReliabilityBins) -> dict[str, list]:
    """The gap bars' numbers, one per non-empty bin: from its accuracy (base) up or down to its mean confidence."""
    centres = (bins.edges[:-1] + bins.edges[1:]) / 2
    keep = bins.nonempty
    return {"x": centres[keep].tolist(), "y": (bins.mean_confidence - bins.accuracy)[keep].tolist(),
            "base": bins.accuracy[keep].tolist(), "width": np.diff(bins.edges)[keep].tolist()}


def _bin_trace(bins: ReliabilityBins, name: str) -> go.Bar:
    """Bars at each bin's centre, as wide as the bin, as high as its accuracy; empty bins drawn at 0 height."""
    return go.Bar(**bin_bar_values(bins), name=name, marker_color=BAR_COLOR, textposition="outside",
                  showlegend=False,
                  hovertemplate="bin %{customdata[0]:.0f}: [%{customdata[3]:.3f}, %{customdata[4]:.3f}]<br>"
                                "items: %{customdata[1]:.0f}<br>mean confidence: %{customdata[2]:.3f}<br>"
                                "accuracy: %{y:.3f}<extra></extra>")


def _gap_trace(bins: ReliabilityBins) -> go.Bar:
    """Translucent bars from accuracy up (or down) to mean confidence: the miscalibration of each bin."""
    return go.Bar(**gap_bar_values(bins), marker_color=GAP_COLOR, name="gap to confidence", hoverinfo="skip",
                  showlegend=False)


def reliability_figure(panels: Sequence[ReliabilityBins], titles: Optional[Sequence[str]] = None,
                       *, height: int = 380) -> go.Figure:
    """Reliability diagrams side by side (one per panel): accuracy per confidence bin with its item count, the
    gap to the bin's mean confidence, and the diagonal of perfect calibration. Traces come three per panel (bars with
    one point per bin, gaps with one point per non-empty bin, diagonal) so a click can be mapped to its bin."""
    titles = list(titles or [SCHEME_TITLES[p.scheme] for p in panels])
    figure = make_subplots(rows=1, cols=len(panels), subplot_titles=[_literal(t) for t in titles],
                           horizontal_spacing=0.08)
    for col, bins in enumerate(panels, start=1):
        figure.add_trace(_bin_trace(bins, titles[col - 1]), row=1, col=col)
        figure.add_trace(_gap_trace(bins), row=1, col=col)
        figure.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dash", color="gray"),
                                    name="perfect calibration", showlegend=col == 1, hoverinfo="skip"),
                         row=1, col=col)
        figure.update_xaxes(title_text="confidence", range=[0, 1], row=1, col=col)
        figure.update_yaxes(title_text="accuracy" if col == 1 else None, range=[0, 1.12], row=1, col=col)
    figure.update_layout(height=height, barmode="overlay", margin=dict(t=50, b=40, l=50, r=20),
                         legend=dict(orientation="h", y=-0.2))
    return figure


def confidence_histogram_figure(confidences: Mapping[str, Sequence[float]], *, n_bins: int = 10) -> go.Figure:
    """Overlaid histograms of each method's confidence in [0, 1] (equal-width bins)."""
    figure = go.Figure()
    for name, values in confidences.items():
        figure.add_trace(go.Histogram(x=list(values), name=_literal(name), opacity=0.6,
                                      xbins=dict(start=0, end=1 + 1e-9, size=1 / n_bins)))
    figure.update_layout(barmode="overlay", height=300, xaxis_title="confidence", yaxis_title="items",
                         margin=dict(t=30, b=40, l=50, r=20), xaxis_range=[0, 1])
    return figure


def risk_coverage_figure(curves: Mapping[str, RiskCoverage]) -> go.Figure:
    """Risk (error rate among kept items) against coverage for several methods, AURC in each legend entry."""
    figure = go.Figure()
    for name, curve in curves.items():
        figure.add_trace(go.Scatter(x=curve.coverage, y=curve.risk, mode="lines",
                                    name=f"{_literal(name)} (AURC {curve.aurc:.3f})",
                                    hovertemplate="coverage %{x:.2f}<br>risk %{y:.3f}<extra></extra>"))
    figure.update_layout(height=340, xaxis_title="coverage (share of items kept, most confident first)",
                         yaxis_title="risk (error rate of kept items)", xaxis_range=[0, 1],
                         margin=dict(t=30, b=40, l=50, r=20), legend=dict(orientation="h", y=-0.25))
    return figure


def agreement_figure(table: Mapping[str, Mapping[str, Optional[float]]]) -> go.Figure:
    """Heatmap of Spearman rank correlations between methods (blank where too few items had both)."""
    names = list(table)
    values = [[table[a][b] if table[a][b] is not None else np.nan for b in names] for a in names]
    labels = [_literal(n) for n in names]
    text = [[f"{v:.2f}" if v == v else "" for v in row] for row in values]
    figure = go.Figure(go.Heatmap(z=values, x=labels, y=labels, zmin=-1, zmax=1, colorscale="RdBu",
                                  text=text, texttemplate="%{text}", colorbar=dict(title="Spearman ρ"),
                                  hovertemplate="%{y} vs %{x}: ρ = %{z:.3f}<extra></extra>"))
    figure.update_layout(height=120 + 50 * len(names), margin=dict(t=30, b=40, l=50, r=20),
                         yaxis=dict(autorange="reversed"))
    return figure
