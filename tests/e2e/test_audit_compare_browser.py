"""Comparing two audits on the Calibration page in a real browser, as a user would: two digits audits (120 items,
then 200 items at another seed), the Compare two audits tab with softmax of one against margin of the other,
both overlaid figures and the differences table drawn, the table downloaded as CSV, the comparison saved and
reopened from its link on the Saved page."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, free_port, press_save_until_saved, streamlit_app, wait_until_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]
DIGITS = "Digits classifier (held-out scikit-learn digits)"
FIGURES = "[class*='st-key-{key}_reliability'] .js-plotly-plot, [class*='st-key-{key}_risk_coverage'] .js-plotly-plot"


def run_digits_audit(page, items: int, seed: int) -> None:
    """Set the digits form's Items and Seed, press Run audit, wait for the headline and the page to settle."""
    wait_until_idle(page)
    for label, value in (("Items (first N)", items), ("Seed", seed)):
        box = page.get_by_label(label, exact=True)
        box.fill(str(value))
        box.press("Tab")
    wait_until_idle(page)
    page.get_by_role("button", name="Run audit").click()
    page.get_by_text(re.compile(rf"^{items} items, accuracy")).wait_for(timeout=180_000)
    page.get_by_role("tab", name="Compare two audits", exact=True).first.wait_for(timeout=60_000)
    wait_until_idle(page)


def pick(page, panel, label: str, option: str) -> None:
    """Open a select box in the panel and click the option whose text holds `option`."""
    wait_until_idle(page)
    panel.get_by_label(label, exact=True).click()
    page.get_by_role("option").filter(has_text=option).first.click()
    wait_until_idle(page)


def test_two_audits_compared_overlaid_downloaded_saved_and_reopened(browser, tmp_path):
    page = browser.new_page(viewport={"width": 1280, "height": 3000})
    with streamlit_app(free_port(), {"UQLENS_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}) as url:
        page.goto(f"{url}/calibration", wait_until="domcontentloaded")
        page.get_by_text(DIGITS).click()
        expect(page.get_by_label("Max new tokens", exact=True)).to_be_disabled(timeout=60_000)
        run_digits_audit(page, 120, 0)
        run_digits_audit(page, 200, 1)
        tab = page.get_by_role("tab", name="Compare two audits", exact=True).filter(visible=True).first
        tab.click()
        expect(tab).to_have_attribute("aria-selected", "true", timeout=30_000)
        panel = page.get_by_role("tabpanel").filter(visible=True).first
        try:
            expect(panel.get_by_label("Audit A", exact=True)).to_have_value(re.compile("200 items"), timeout=30_000)
            expect(panel.get_by_label("Audit B", exact=True)).to_have_value(re.compile("120 items"))
            pick(page, panel, "Method of B", "margin")
            panel.get_by_role("button", name="Compare").click()
            panel.get_by_text("120 paired items of builtin-digits").wait_for(timeout=120_000)
            panel.locator(FIGURES.format(key="calib_cmp")).nth(1).wait_for(timeout=60_000)
            expect(panel.get_by_text("80 only in A")).to_be_visible()
            expect(panel.get_by_test_id("stDataFrame").first).to_be_visible()
            legend = panel.locator("[class*='st-key-calib_cmp_risk_coverage'] .legendtext").all_text_contents()
            assert any("A: digits" in t and "softmax" in t for t in legend), legend
            assert any("B: digits" in t and "margin" in t for t in legend), legend
        finally:
            page.screenshot(path=str(ARTIFACTS / "calibration-compare-audits.png"), full_page=True)
        with page.expect_download() as download:
            panel.get_by_role("button", name="Differences as CSV").click()
        table = download.value.path().read_text()
        assert table.splitlines()[0].startswith("metric,better,A,B,B − A") and "AUROC" in table
        wait_until_idle(page)  # the download reran the page: open the form once it is drawn for good
        panel.get_by_text("Save this analysis").click()
        panel.get_by_role("textbox", name="Title").fill("softmax vs margin on digits")
        press_save_until_saved(page, panel)
        code = panel.get_by_test_id("stCode").filter(has_text="saved?id=").first
        code.wait_for(timeout=30_000)
        link = code.text_content()
        page.goto(link.strip(), wait_until="domcontentloaded")
        try:
            page.get_by_text("120 paired items of builtin-digits").wait_for(timeout=60_000)
            page.locator(FIGURES.format(key="saved_view")).nth(1).wait_for(timeout=60_000)
        finally:
            page.screenshot(path=str(ARTIFACTS / "saved-audit-comparison.png"), full_page=True)
        assert not page.locator("[data-testid='stException']").count()
    page.close()
