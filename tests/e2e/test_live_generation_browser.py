"""Live generation on the Text page in a real browser: coloured tokens appear while the answer is generated, and
Stop keeps them: the page then shows the analysis of the tokens kept, stop reason "stopped"."""
from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import ARTIFACTS, HEATMAP_BARS, RESULT_TIMEOUT_MS

pytestmark = [pytest.mark.browser, pytest.mark.slow]
LIVE_TOKENS = "[data-testid='uqlens-live-tokens'] span"
MAX_NEW_TOKENS = 200


def start_live_generation(page, url: str) -> None:
    """A sampled 200-token answer at temperature 1.5 (an end token in the first tokens is unlikely), generated live
    (the default)."""
    page.goto(f"{url}/text", wait_until="domcontentloaded")
    page.get_by_role("textbox", name="Prompt").wait_for(timeout=RESULT_TIMEOUT_MS)
    page.get_by_role("textbox", name="Prompt").fill("Tell me a long story about a lighthouse keeper and a storm.")
    page.get_by_text("Model and generation settings").click()
    page.get_by_role("spinbutton", name="Max new tokens").fill(str(MAX_NEW_TOKENS))
    page.get_by_text("sample", exact=True).click()
    page.get_by_role("spinbutton", name="Temperature").fill("1.5")
    page.get_by_role("button", name="Analyze").click()


def test_tokens_appear_coloured_while_generating_and_stop_keeps_them(page, app_url):
    start_live_generation(page, app_url)
    page.wait_for_function(f"() => document.querySelectorAll(\"{LIVE_TOKENS}\").length >= 8",
                           timeout=RESULT_TIMEOUT_MS)
    first = page.locator(LIVE_TOKENS).first
    colour = first.evaluate("span => getComputedStyle(span).backgroundColor")
    assert colour.startswith("rgb") and colour != "rgba(0, 0, 0, 0)"
    assert "p = " in first.get_attribute("title")
    assert page.get_by_text("Generating:").is_visible()  # still generating: the tokens came before the end
    page.screenshot(path=str(ARTIFACTS / "text-page-live-generation.png"), full_page=True)
    shown = page.locator(LIVE_TOKENS).count()
    page.get_by_role("button", name="Stop (keep what came)").click()
    notice = page.get_by_text(re.compile(r"Stopped\. Kept the \d+ tokens generated before Stop"))
    try:
        notice.wait_for(timeout=RESULT_TIMEOUT_MS)
    finally:
        page.screenshot(path=str(ARTIFACTS / "text-page-live-stopped.png"), full_page=True)
    kept = int(re.search(r"Kept the (\d+) tokens", notice.inner_text()).group(1))
    assert shown <= kept < MAX_NEW_TOKENS
    assert "stop reason: stopped" in notice.inner_text()
    page.locator(HEATMAP_BARS).first.wait_for(timeout=RESULT_TIMEOUT_MS)
    assert not page.locator(LIVE_TOKENS).count()  # the live drawing gave way to the analysis
    assert not page.locator("[data-testid='stException']").count()
    page.screenshot(path=str(ARTIFACTS / "text-page-live-stopped.png"), full_page=True)
