"""The Calibration & audits page under Streamlit's AppTest: a digits audit, and bad input."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

MAIN = str(Path(__file__).resolve().parents[2] / "app" / "main.py")
DIGITS = "Digits classifier (held-out scikit-learn digits)"


def open_page() -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=120)
    at.run()
    at.switch_page("calibration_page.py").run()
    return at


@pytest.mark.slow
def test_digits_audit_shows_metrics_and_tabs():
    at = open_page()
    at.radio(key="calib_source").set_value(DIGITS).run()
    at.number_input(key="calib_limit").set_value(60)
    at.button[0].click().run()
    assert not at.exception and not at.error
    assert at.subheader[0].value.startswith("60 items, accuracy")
    assert [t.label for t in at.tabs] == ["Reliability", "Error detection", "Recalibration", "Agreement", "Items",
                                          "Export"]
    assert any("Binning: 10 equal-width bins" in c.value for c in at.caption)


@pytest.mark.slow
def test_no_method_says_what_to_change():
    at = open_page()
    at.radio(key="calib_source").set_value(DIGITS).run()
    at.multiselect(key="calib_methods_builtin-digits").set_value([])
    at.button[0].click().run()
    assert not at.exception and "Pick at least one confidence method" in at.error[0].value
