"""The Calibration page's views that change in the browser (components.client_view): a click on a reliability
bar lists that bin's items, and the "Try a temperature" slider redraws the live reliability diagram and its ECE,
with no rerun. Every state is computed here, with the same functions as the figures (backend.analyses.calibration,
backend.analyses.recalibration, backend.audit.report_figures), for every bin and every slider value.
"""
from __future__ import annotations

from html import escape
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from backend.analyses import calibration as cal
from backend.analyses import recalibration as rc
from backend.audit.report_figures import bin_bar_values, gap_bar_values, reliability_figure
from components.client_view import Update, panel, relayout, restyle

TRACES_PER_PANEL = 3
MAX_BIN_ROWS = 200
TEMPERATURES = tuple(round(0.1 + 0.05 * i, 2) for i in range(99))  # 0.10 .. 5.00, the slider's steps


def table_html(frame: pd.DataFrame, limit: int = MAX_BIN_ROWS) -> str:
    """The frame's first `limit` rows as an escaped HTML table in a scrolling box, and how many were left out."""
    shown = frame.head(limit).to_html(index=False, escape=True, classes="uq-table", border=0, na_rep="",
                                      float_format=lambda v: f"{v:.4g}")
    more = len(frame) - limit
    note = f'<p class="uq-caption">… and {more} more (the Items tab and the exports have them all)</p>' \
        if more > 0 else ""
    return f'<div class="uq-table-box">{shown}</div>{note}'


def bin_heading(scheme: str, index: int, bins: cal.ReliabilityBins, count: int) -> str:
    """'<b>equal-width bin 3</b> [0.300, 0.400]: 12 items' as HTML."""
    return (f"<p><b>{escape(scheme.replace('_', '-'))} bin {index}</b> "
            f"[{bins.edges[index]:.3f}, {bins.edges[index + 1]:.3f}]: {count} items</p>")


def bin_items(panels: Sequence[cal.ReliabilityBins], schemes: Sequence[str], confidence: np.ndarray,
              kept: Sequence[int], frame_of: Callable[[list[int], np.ndarray], pd.DataFrame]
              ) -> dict[tuple[int, int], dict]:
    """{(trace, point): {"html", "select"}} for every bin of every panel of a reliability_figure: its bar (trace
    3p, point = bin) and its gap bar (trace 3p + 1, point = its rank among the non-empty bins) both list the
    bin's items and select its bar. confidence: (n,) the confidences binned, of the items at positions kept;
    frame_of(item positions, their confidences) -> the table of those items."""
    items = {}
    for number, (scheme, bins) in enumerate(zip(schemes, panels)):
        assigned = cal.assign_bins(confidence, bins.edges)
        nonempty = list(np.flatnonzero(bins.nonempty))
        for index in range(len(bins.counts)):
            rows = np.flatnonzero(assigned == index)
            members = [kept[i] for i in rows]
            html = bin_heading(scheme, index, bins, len(members)) + table_html(frame_of(members, confidence[rows]))
            item = {"html": html, "select": [TRACES_PER_PANEL * number, index]}
            items[(TRACES_PER_PANEL * number, index)] = item
            if index in nonempty:
                items[(TRACES_PER_PANEL * number + 1, nonempty.index(index))] = item
    return items


def bar_values(bins: cal.ReliabilityBins) -> dict[str, list]:
    """{attribute: [value of the bars, value of the gap bars]} of a one-panel reliability figure of these bins,
    for Plotly.restyle of its traces 0 and 1 (None where a trace has no such attribute: plotly's default)."""
    bars, gaps = bin_bar_values(bins), gap_bar_values(bins)
    return {name: [bars.get(name), gaps.get(name)] for name in dict.fromkeys([*bars, *gaps])}


def temperature_key(temperature: float) -> str:
    """A slider value as its state key and label: '1.05'."""
    return f"{temperature:.2f}"


def temperature_title(temperature: float) -> str:
    """The live diagram's title at a temperature."""
    return f"T = {temperature:.2f}"


def ece_html(score: np.ndarray, correct: np.ndarray, n_bins: int, temperature: float) -> str:
    """The live ECE as a metric block."""
    scaled = rc.apply_binary_temperature(score, temperature)
    ece = cal.expected_calibration_error(scaled, correct, n_bins)
    return ('<div class="uq-metric" title="equal-width bins, all items (the fit above used only the fit split)">'
            f'<div class="uq-metric-label">ECE of all items at T = {temperature:.2f}</div>'
            f'<div class="uq-metric-value">{ece:.4f}</div></div>')


def scaled_bins(score: np.ndarray, correct: np.ndarray, n_bins: int, temperature: float) -> cal.ReliabilityBins:
    """Equal-width bins of every item's confidence at a temperature (score: (n,) confidences in [0, 1], correct:
    (n,) 0/1)."""
    return cal.reliability_bins(rc.apply_binary_temperature(score, temperature), correct, n_bins)


def live_figure(score: np.ndarray, correct: np.ndarray, n_bins: int, temperature: float):
    """The live reliability diagram at a temperature."""
    return reliability_figure([scaled_bins(score, correct, n_bins, temperature)], [temperature_title(temperature)])


def temperature_states(score: np.ndarray, correct: np.ndarray, n_bins: int, figure_key: str,
                       ece_panel: str) -> dict[str, list[Update]]:
    """{temperature_key(T): updates} for every slider value T: the live figure's bars and gaps (restyled with the
    numbers live_figure draws at T, no figure built), its title and the ECE panel."""
    return {temperature_key(t): [restyle(figure_key, bar_values(scaled_bins(score, correct, n_bins, t)), [0, 1]),
                                 relayout(figure_key, {"annotations[0].text": temperature_title(t)}),
                                 panel(ece_panel, ece_html(score, correct, n_bins, t))]
            for t in TEMPERATURES}
