"""A saved analysis' link opened on another UQ Lens (its own store) after importing the export, in the presenter
view; and the Text page's presenter toggle, in headless Chromium."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import ARTIFACTS, analyze, free_port, press_save_until_saved, streamlit_app, wait_until_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PROMPT = "What is the capital of France?"
PRESENTED_BARS = "[class*='st-key-saved_view_present_heatmap'] .js-plotly-plot g.trace.bars g.point"


def save_and_export(page, tmp_path) -> tuple[str, str]:
    """Save the analysis on screen; return its presenter link and the path of its export from the Saved page."""
    wait_until_idle(page, timeout_s=180)  # the analysis' script run has finished: the form will not be redrawn
    page.get_by_text("Save this analysis").click()
    page.get_by_role("textbox", name="Title").wait_for(timeout=30_000)
    page.get_by_role("textbox", name="Title").fill("Linked across machines")
    press_save_until_saved(page)
    link = next(text for text in page.locator("[data-testid='stCode']").all_inner_texts() if "view=present" in text)
    page.goto(link.strip().replace("&view=present", ""), wait_until="domcontentloaded")
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="Export (JSON)").click()
    export = tmp_path / "export.json"
    download.value.save_as(export)
    return link.strip(), str(export)


def test_the_link_reopens_on_another_uq_lens_once_the_export_is_imported(browser, tmp_path):
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    with streamlit_app(free_port(), {"UQLENS_DATABASE_URL": f"sqlite:///{tmp_path / 'a.sqlite'}"}) as url:
        analyze(page, url, PROMPT)
        link, export = save_and_export(page, tmp_path)
    with streamlit_app(free_port(), {"UQLENS_DATABASE_URL": f"sqlite:///{tmp_path / 'b.sqlite'}"}) as other:
        there = other + link[link.index("/saved"):]
        page.goto(there, wait_until="domcontentloaded")
        page.get_by_text("No saved analysis has the id").wait_for(timeout=60_000)
        page.get_by_text("Import exported analyses (JSON)").click()
        page.locator("input[type='file']").set_input_files(export)
        wait_until_idle(page)
        page.get_by_role("button", name="Import", exact=True).click()
        page.get_by_text("Imported 1 item").wait_for(timeout=30_000)
        page.goto(there, wait_until="domcontentloaded")
        page.locator(PRESENTED_BARS).first.wait_for(timeout=60_000)
        page.screenshot(path=str(ARTIFACTS / "saved-link-presenter.png"), full_page=True)
        assert PROMPT in page.locator("h2").first.inner_text()
        assert "Paris" in page.locator("[class*='st-key-saved_view_present_heatmap']").inner_text()
        assert page.get_by_text("Sequence summaries").count() == 0
    page.close()


def test_the_presenter_toggle_on_the_text_page(page, app_url):
    analyze(page, app_url, PROMPT)
    page.get_by_text("Presenter view").click()
    page.locator("[class*='st-key-text_present_heatmap'] .js-plotly-plot g.trace.bars g.point").first \
        .wait_for(timeout=60_000)
    wait_until_idle(page)
    assert "view=present" in page.url
    page.screenshot(path=str(ARTIFACTS / "text-page-presenter.png"), full_page=True)
    assert PROMPT in page.locator("h2").first.inner_text()
    assert page.get_by_text("Sequence summaries").count() == 0
