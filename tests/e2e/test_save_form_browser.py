"""The save form in a real browser: its title and notes belong to the analysis on screen, never to an earlier one."""
from __future__ import annotations

import pytest

from backend.store.repository import Store
from tests.e2e.conftest import ARTIFACTS, analyze, free_port, streamlit_app, wait_until_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]
FIRST, SECOND, THIRD = ("What is the capital of Australia?", "Write a haiku about the sea.",
                        "Name a primary colour.")


def open_form(page) -> None:
    """Open the save expander unless its Title box is already showing."""
    if not page.get_by_role("textbox", name="Title").is_visible():
        page.get_by_text("Save this analysis").click()
    page.get_by_role("textbox", name="Title").wait_for(timeout=30_000)


def press_save(page) -> None:
    """Press Save and wait for the confirmation."""
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("Saved as").wait_for(timeout=30_000)


def analyze_next(page, prompt: str) -> None:
    """Type a new prompt on the open Text page, press Analyze and wait until its run has finished."""
    page.get_by_role("textbox", name="Prompt").fill(prompt)
    page.get_by_role("button", name="Analyze").click()
    page.get_by_text("Saved as").wait_for(state="detached", timeout=180_000)
    wait_until_idle(page, timeout_s=180)


def test_title_and_notes_follow_the_analysis_being_saved(browser, tmp_path):
    url_of_store = f"sqlite:///{tmp_path / 'saved.sqlite'}"
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    with streamlit_app(free_port(), {"UQLENS_DATABASE_URL": url_of_store}) as url:
        analyze(page, url, FIRST)
        open_form(page)
        page.get_by_role("textbox", name="Title").fill("Australia T1")
        page.get_by_role("textbox", name="Notes").fill("Australia notes")
        press_save(page)
        analyze_next(page, SECOND)
        open_form(page)
        press_save(page)
        page.get_by_role("textbox", name="Title").fill("Typed for the haiku, never saved")
        page.get_by_role("textbox", name="Notes").fill("haiku notes, never saved")
        analyze_next(page, THIRD)
        open_form(page)
        press_save(page)
        page.screenshot(path=str(ARTIFACTS / "save-form-follows-analysis.png"), full_page=True)
    page.close()
    saved = {item.title: item for item in Store(url_of_store).list()}
    assert set(saved) == {"Australia T1", SECOND, THIRD}
    assert saved["Australia T1"].notes == "Australia notes"
    assert saved[SECOND].notes == "" and saved[THIRD].notes == ""
