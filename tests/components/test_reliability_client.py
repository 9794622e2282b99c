"""The Calibration page's browser-side views (components.reliability_client): a click on any bar or gap bar of
a bin lists exactly that bin's items, and every slider temperature's state is the diagram and ECE the server
would draw at that temperature."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit

from backend.analyses.calibration import reliability_bins
from components.reliability_client import (TEMPERATURES, bin_items, ece_html, live_figure, table_html,
                                           temperature_key, temperature_states)

CONF = np.array([0.1, 0.2, 0.85, 0.9, 1.0])
HIT = np.array([0, 1, 1, 0, 1])


def frame_of(members, values):
    return pd.DataFrame({"#": members, "confidence": values})


def test_every_bar_and_gap_of_a_bin_lists_that_bins_items():
    panels = [reliability_bins(CONF, HIT, 4, "equal_width"), reliability_bins(CONF, HIT, 2, "equal_mass")]
    kept = [10, 11, 12, 13, 14]
    items = bin_items(panels, ("equal_width", "equal_mass"), CONF, kept, frame_of)
    first = items[(0, 0)]  # equal-width [0, 0.25): items 10 and 11
    assert first["select"] == [0, 0] and "<b>equal-width bin 0</b> [0.000, 0.250]: 2 items" in first["html"]
    assert "<td>10</td>" in first["html"] and "<td>11</td>" in first["html"] and "<td>12</td>" not in first["html"]
    assert items[(1, 1)] is items[(0, 3)]  # the second gap bar belongs to the last non-empty bin, [0.75, 1]
    assert "3 items" in items[(0, 3)]["html"] and ": 0 items" in items[(0, 1)]["html"]
    assert (1, 2) not in items  # two non-empty bins, so two gap bars
    assert items[(3, 0)]["select"] == [3, 0] and items[(4, 0)] is items[(3, 0)]  # the second panel: traces 3, 4


def test_tables_are_escaped_and_cut():
    html = table_html(pd.DataFrame({"question": ["<script>x</script>"] * 3}), limit=2)
    assert "<script>" not in html and "&lt;script&gt;" in html and "… and 1 more" in html


def test_each_slider_state_is_the_diagram_and_ece_at_its_temperature():
    states = temperature_states(CONF, HIT, 4, "live", "ece")
    assert list(states) == [temperature_key(t) for t in TEMPERATURES] and states["1.00"] and states["5.00"]
    bars, title, ece = states["2.50"]
    drawn = live_figure(CONF, HIT, 4, 2.5)
    assert bars["restyle"]["y"] == [pytest.approx(list(drawn.data[0].y)), pytest.approx(list(drawn.data[1].y))]
    assert bars["restyle"]["base"][0] is None and bars["traces"] == [0, 1]
    assert title["relayout"] == {"annotations[0].text": "T = 2.50"}
    scaled = expit(logit(np.clip(CONF, 1e-12, 1 - 1e-12)) / 2.5)  # the clip of recalibration.binary_logits
    edges = np.linspace(0, 1, 5)
    index = np.clip(np.searchsorted(edges, scaled, side="right") - 1, 0, 3)
    by_hand = sum(abs(HIT[index == b].mean() - scaled[index == b].mean()) * (index == b).sum() / len(CONF)
                  for b in range(4) if (index == b).any())
    assert ece == {"panel": "ece", "html": ece_html(CONF, HIT, 4, 2.5)} and f"{by_hand:.4f}" in ece["html"]
