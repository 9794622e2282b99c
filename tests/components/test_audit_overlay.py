"""The overlay builders of two compared audits, on the figure and table objects: two colours, the legend naming
each side (escaped), empty bins left out, the verdict of an interval that excludes 0 by the metric's direction."""
from __future__ import annotations

from backend.audit.comparison import compare_sides
from backend.schemas.audit_compare import AuditComparisonRequest, MetricDifference
from components.audit_overlay import (COLOURS, differences_frame, overlay_reliability_figure,
                                      overlay_risk_coverage_figure, pairing_text, verdict)
from tests.backend.audit.test_comparison import A_ID, B_ID, TINY_A, TINY_B, side


def comparison():
    a, b = side(A_ID, TINY_A), side(B_ID, TINY_B)
    b = b.__class__(**{**b.__dict__, "model_id": "<b>bold</b>"})
    return compare_sides(a, b, AuditComparisonRequest(audit_a=A_ID, audit_b=B_ID, n_boot=100))


def test_reliability_overlay_draws_each_sides_non_empty_bins_in_its_colour():
    figure = overlay_reliability_figure(comparison())
    a, b, diagonal = figure.data
    assert list(a.x) == [0.35, 0.65, 0.85, 0.95] and list(a.y) == [0.0, 0.0, 1.0, 1.0]
    assert a.line.color == COLOURS["a"] and b.line.color == COLOURS["b"]
    assert a.name == "A: model-a · p" and b.name == "B: &lt;b&gt;bold&lt;/b&gt; · p"
    assert diagonal.name == "perfect calibration"


def test_risk_coverage_overlay_names_the_area_of_each_side():
    figure = overlay_risk_coverage_figure(comparison())
    assert [t.name for t in figure.data] == ["A: model-a · p (AURC 0.208)",
                                             "B: &lt;b&gt;bold&lt;/b&gt; · p (AURC 0.667)"]
    assert list(figure.data[1].y) == [1, 0.5, 2 / 3, 0.5]


def test_the_table_marks_an_interval_excluding_zero_with_the_better_side():
    row = dict(name="ece", label="ECE", a=0.2, b=0.1, ci_low=-0.15, ci_high=-0.05)
    assert verdict(MetricDifference(**row, better="lower", difference=-0.1, excludes_zero=True)) == "✱ B better"
    assert verdict(MetricDifference(**row, better="higher", difference=-0.1, excludes_zero=True)) == "✱ A better"
    assert verdict(MetricDifference(**row, better="lower", difference=-0.1, excludes_zero=False)) == ""
    result = comparison()
    frame = differences_frame(result)
    assert list(frame.columns) == ["metric", "better", "A", "B", "B − A", "95% CI low", "95% CI high", "p_boot",
                                   "CI excludes 0", "note"]
    assert len(frame) == 10 and frame.loc[frame.metric == "Brier", "B − A"].item() == result.metrics[4].difference
    assert "4 paired items" in pairing_text(result) and "1 only in A, 1 only in B" in pairing_text(result)
