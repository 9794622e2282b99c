"""Branching in a real browser, as a user would: analyse a prompt, click a token, press "Continue from here" on
an alternative, see the second branch in the Branches list with its forced token, switch branches, save the tree
and reopen it on the Saved page."""
from __future__ import annotations

import re

import pytest

from backend.store.repository import Store
from tests.e2e.conftest import (ARTIFACTS, HEATMAP_BARS, RESULT_TIMEOUT_MS, analyze, click_centre, free_port,
                                streamlit_app, wait_until_idle)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PROMPT = "What is the capital of France?"
HEATMAP = "[class*='st-key-text_answer_heatmap']"


def test_continue_from_an_alternative_walk_the_tree_save_and_reopen(browser, tmp_path):
    store_url = f"sqlite:///{tmp_path / 'saved.sqlite'}"
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    with streamlit_app(free_port(), {"UQLENS_DATABASE_URL": store_url}) as url:
        analyze(page, url, PROMPT)
        wait_until_idle(page, timeout_s=180)
        first_answer = page.locator(HEATMAP).inner_text()
        click_centre(page, page.locator(HEATMAP_BARS).nth(5))
        page.get_by_text("Selected token").wait_for(timeout=30_000)
        wait_until_idle(page)
        button = page.get_by_role("button", name=re.compile("^Continue from here with")).first
        forced_text = re.search(r"with '(.*)' \(p = ", button.inner_text()).group(1)
        button.click()
        radio = page.get_by_role("radiogroup", name="Branches")
        radio.get_by_text(re.compile(r"Branch 1 · at token 6:")).wait_for(timeout=RESULT_TIMEOUT_MS)
        wait_until_idle(page, timeout_s=180)
        page.get_by_text(re.compile("^Forced, not chosen by the model")).wait_for(timeout=30_000)
        assert forced_text.strip() in page.locator(HEATMAP).inner_text()
        page.screenshot(path=str(ARTIFACTS / "text-page-branches.png"), full_page=True)

        radio.get_by_text(re.compile(r"Branch 0 · the first answer")).click()
        wait_until_idle(page)
        page.wait_for_function(f"() => document.querySelector(\"{HEATMAP}\").innerText === {first_answer!r}",
                               timeout=30_000)
        radio.get_by_text(re.compile(r"Branch 1 · at token 6:")).click()
        page.get_by_text(re.compile("^Branch 1: its first 6 tokens are forced")).wait_for(timeout=30_000)
        wait_until_idle(page)

        page.get_by_text("Save this analysis").click()
        page.get_by_role("textbox", name="Title").wait_for(timeout=30_000)
        wait_until_idle(page)
        page.get_by_role("textbox", name="Title").fill("France branches")
        page.get_by_role("button", name="Save", exact=True).click()
        try:
            page.get_by_text("Saved as").wait_for(timeout=90_000)
        finally:
            page.screenshot(path=str(ARTIFACTS / "text-page-branches-saving.png"), full_page=True)
        (item,) = Store(store_url).list(kind="branches")
        page.goto(f"{url}/saved?id={item.id}", wait_until="domcontentloaded")
        page.get_by_text("Branches (2)").wait_for(timeout=RESULT_TIMEOUT_MS)
        wait_until_idle(page)
        saved_radio = page.get_by_role("radiogroup", name="Branches")
        saved_radio.get_by_text(re.compile(r"Branch 1 · at token 6:")).click()
        wait_until_idle(page)
        page.get_by_text("Text branches").first.wait_for(timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "saved-branches.png"), full_page=True)
        assert not page.locator("[data-testid='stException']").count()
    page.close()
    assert item.title == "France branches" and not errors
