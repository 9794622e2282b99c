"""Audit figure builders (shared by the HTML report and the page), tested on the figure objects."""
from __future__ import annotations

import numpy as np

from backend.analyses.calibration import reliability_bins
from backend.analyses.error_detection import risk_coverage
from backend.audit.report_figures import (agreement_figure, confidence_histogram_figure, reliability_figure,
                                         risk_coverage_figure)

CONF = [0.1, 0.2, 0.85, 0.9, 1.0]
HIT = [0, 1, 1, 0, 1]


def test_reliability_panels_show_counts_accuracy_and_bin_index():
    panels = [reliability_bins(CONF, HIT, 4, "equal_width"), reliability_bins(CONF, HIT, 2, "equal_mass")]
    figure = reliability_figure(panels)
    bars = [t for t in figure.data if t.type == "bar" and t.text is not None]
    assert len(bars) == 2 and len(figure.data) == 6  # bars, gap and diagonal per panel
    assert list(bars[0].text) == ["n=2", "n=0", "n=0", "n=3"]
    assert np.allclose(bars[0].y, [0.5, 0, 0, 2 / 3])
    assert [row[0] for row in bars[0].customdata] == [0, 1, 2, 3]
    assert [a.text for a in figure.layout.annotations] == ["Equal-width bins", "Equal-mass bins"]
    gap = figure.data[1]
    assert np.allclose(gap.base, [0.5, 2 / 3]) and np.allclose(gap.y, [0.15 - 0.5, 2.75 / 3 - 2 / 3])


def test_titles_from_untrusted_names_are_escaped():
    figure = reliability_figure([reliability_bins(CONF, HIT, 2)], ["<b>x</b>"])
    assert figure.layout.annotations[0].text == "&lt;b&gt;x&lt;/b&gt;"
    histogram = confidence_histogram_figure({"<i>m</i>": CONF})
    assert histogram.data[0].name == "&lt;i&gt;m&lt;/i&gt;"


def test_risk_coverage_and_agreement_figures():
    curve = risk_coverage([0.9, 0.8, 0.3, 0.6], [1, 0, 0, 1], "confident")
    figure = risk_coverage_figure({"a": curve})
    assert figure.data[0].name == f"a (AURC {curve.aurc:.3f})" and list(figure.data[0].x) == [0.25, 0.5, 0.75, 1]
    heat = agreement_figure({"a": {"a": 1.0, "b": -0.5}, "b": {"a": -0.5, "b": None}})
    assert heat.data[0].text[0] == ["1.00", "-0.50"] and heat.data[0].text[1][1] == ""
