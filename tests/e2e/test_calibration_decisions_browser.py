"""The Calibration page's decision tabs in a real browser, as a user would use them: a digits audit runs, the
Label issues tab lists the likely mislabelled digits with the picked one's image and a CSV download, and the Answer
or abstain tab re-reads its threshold and guarantee when alpha changes, still the open tab after that rerun."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, wait_until_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]
DIGITS = "Digits classifier (held-out scikit-learn digits)"
GUARANTEE = re.compile(r"at most [\d.]+ ?% of the answers given will be wrong")
REFUSAL = re.compile(r"No threshold for ")
RULE = re.compile(r"answering only if (.+?) and abstaining")


def open_tab(page, name: str):
    """Click the audit's tab called `name` and return it (the tab itself, not its panel)."""
    tab = page.get_by_role("tab", name=name, exact=True).filter(visible=True).first
    tab.click()
    expect(tab).to_have_attribute("aria-selected", "true", timeout=30_000)
    return tab


def decision(page):
    """The guarantee or the refusal in the open tab's panel (the Answer or abstain tab's decision)."""
    panel = page.get_by_role("tabpanel").filter(visible=True).first
    return panel.get_by_text(GUARANTEE).or_(panel.get_by_text(REFUSAL)).first


def rule(guarantee: str) -> str:
    """The answering rule a guarantee names ('softmax ≥ 0.51'), or '' when it names none."""
    found = RULE.search(guarantee)
    return found.group(1) if found else ""


def run_digits_audit(page, url: str) -> None:
    """Open the Calibration page, pick the held-out digits (all 540 by default), run the audit, wait for it."""
    page.goto(f"{url}/calibration", wait_until="domcontentloaded")
    page.get_by_text(DIGITS).click()
    expect(page.get_by_label("Max new tokens", exact=True)).to_be_disabled(timeout=60_000)
    wait_until_idle(page)
    page.get_by_role("button", name="Run audit").click()
    page.get_by_text(re.compile(r"^540 items, accuracy")).wait_for(timeout=180_000)
    page.get_by_role("tab", name="Label issues", exact=True).first.wait_for(timeout=60_000)
    wait_until_idle(page)


def test_label_issues_and_answer_or_abstain_tabs(page, app_url):
    page.set_viewport_size({"width": 1280, "height": 2000})  # the app scrolls inside itself: show the tab in full
    run_digits_audit(page, app_url)

    open_tab(page, "Label issues")
    panel = page.get_by_role("tabpanel").filter(visible=True).first
    try:
        headline = panel.get_by_text(re.compile(r"\d+ of 540 items")).first
        headline.wait_for(timeout=30_000)
        assert int(headline.inner_text().split()[0]) >= 1
        expect(panel.get_by_test_id("stDataFrame").first).to_be_visible()
        expect(panel.locator("[data-testid='stImage'] img").first).to_be_visible(timeout=30_000)  # the digit
        expect(panel.locator(".js-plotly-plot").first).to_be_visible(timeout=30_000)  # its class probabilities
        expect(panel.get_by_role("button", name="Label issues as CSV")).to_be_visible()
    finally:
        page.screenshot(path=str(ARTIFACTS / "calibration-label-issues.png"), full_page=True)

    tab = open_tab(page, "Answer or abstain")
    try:
        decision(page).wait_for(timeout=30_000)
        before = decision(page).inner_text()
        alpha = page.get_by_label("alpha (error rate allowed)", exact=True)
        alpha.fill("0.02")
        alpha.press("Enter")
        wait_until_idle(page)
        expect(decision(page)).not_to_have_text(before, timeout=30_000)  # the rerun has drawn the new decision
        wait_until_idle(page)
        assert tab.get_attribute("aria-selected") == "true", "the rerun after alpha changed left the tab"
        after = decision(page).inner_text()
        assert REFUSAL.search(after) or ("at most 2 %" in after and rule(after) != rule(before)), (before, after)
        assert alpha.input_value() == "0.020"
    finally:
        page.screenshot(path=str(ARTIFACTS / "calibration-answer-or-abstain.png"), full_page=True)
    assert not page.locator("[data-testid='stException']").count()
