"""The Calibration page's Label issues tab on a finished digits audit (all 540 held-out digits, no download): the
ranked table, the picked digit's image and class probabilities, the CSV download; and the refusal on a small audit."""
from __future__ import annotations

import pytest

from tests.app.test_calibration_page import DIGITS, open_page


def digits_audit(limit: int):
    """The page after a digits audit of the first `limit` held-out images."""
    at = open_page()
    at.radio(key="calib_source").set_value(DIGITS).run()
    at.number_input(key="calib_limit_builtin-digits").set_value(limit)
    at.button(key="FormSubmitter:calib_form-Run audit").click().run()
    assert not at.exception and not at.error
    return at


@pytest.mark.slow
def test_a_digits_audit_shows_its_likely_label_issues():
    at = digits_audit(540)
    assert "Label issues" in [t.label for t in at.tabs]
    table = next(frame.value for frame in at.dataframe if "label quality" in frame.value.columns)
    assert len(table) >= 1 and list(table["rank"]) == list(range(1, len(table) + 1))
    assert list(table["label quality"]) == sorted(table["label quality"])
    assert at.selectbox(key="calib_label_issue_pick").value == 1
    assert len(at.get("image")) == 1
    assert any(button.label == "Label issues as CSV" for button in at.get("download_button"))
    assert any("likely wrong" in markdown.value for markdown in at.markdown)


@pytest.mark.slow
def test_a_small_digits_audit_says_why_it_looked_for_none():
    at = digits_audit(12)
    assert "Label issues" in [t.label for t in at.tabs]
    assert any(w.value.startswith("No label issues looked for: only 12 items") for w in at.warning)
