"""The Text page in a real browser: the heatmap renders, a click selects a token, HTML in a prompt stays text."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import ARTIFACTS, HEATMAP_BARS, analyze, click_centre

pytestmark = [pytest.mark.browser, pytest.mark.slow]
def test_heatmap_renders_and_a_click_selects_a_token(page, app_url):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    analyze(page, app_url, "What is the capital of France?")
    bars = page.locator(HEATMAP_BARS)
    assert bars.count() >= 3
    assert "Paris" in page.locator("[class*='st-key-text_answer_heatmap']").inner_text()
    click_centre(page, bars.nth(0))
    page.get_by_text("Selected token").wait_for(timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "text-page-selected.png"), full_page=True)
    assert not page.locator("[data-testid='stException']").count()
    assert not dialogs


def test_html_in_prompt_and_answer_is_shown_as_text(page, app_url):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    analyze(page, app_url, "Repeat: <b>bold</b>", answer="<img src=x onerror=alert(1)> <script>alert(2)</script>")
    heatmap_text = "".join(page.locator("[class*='st-key-text_answer_heatmap']").inner_text().split())
    page.screenshot(path=str(ARTIFACTS / "text-page-html.png"), full_page=True)
    assert "<imgsrc=xonerror=alert(1)><script>alert(2)</script>" in heatmap_text
    assert not page.locator("[class*='st-key-text_answer_heatmap'] img").count()
    assert not dialogs
