"""The Side by side page in headless Chromium: compare one model at two temperatures, as a user would."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import ARTIFACTS, RESULT_TIMEOUT_MS, wait_until_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]
DIFFERENCE_BARS = "[class*='st-key-compare_A_difference_token_weights'] .js-plotly-plot g.trace.bars g.point"


def test_two_temperatures_side_by_side(browser, app_url):
    page = browser.new_page(viewport={"width": 1400, "height": 2200})
    page.goto(f"{app_url}/compare", wait_until="domcontentloaded")
    page.get_by_role("textbox", name="Prompt").wait_for(timeout=RESULT_TIMEOUT_MS)
    page.get_by_role("textbox", name="Prompt").fill("What is the capital of France?")
    temperatures = page.get_by_role("spinbutton", name="Temperature")
    temperatures.nth(1).fill("0.3")
    page.get_by_role("button", name="Compare").click()
    page.locator(DIFFERENCE_BARS).first.wait_for(timeout=RESULT_TIMEOUT_MS)
    wait_until_idle(page)
    page.screenshot(path=str(ARTIFACTS / "compare-page.png"), full_page=True)
    text = page.locator("[data-testid='stMain']").inner_text()
    assert "T 0.3" in text and "How sure is B of this answer?" in text and "How sure is A" in text
    assert "Paris" in page.locator("[class*='st-key-compare_B_heatmap']").inner_text()
