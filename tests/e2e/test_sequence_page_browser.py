"""The Sequence uncertainty page in a real browser: methods toggled, a small run, every evidence tab renders."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.slow]
RESULT_TIMEOUT_MS = 300_000
OVERVIEW = "[class*='st-key-seq_scores_overview'] .js-plotly-plot"
HEATMAP_BARS = "[class*='st-key-seq_answer_heatmap'] .js-plotly-plot g.trace.bars g.point"
SLOW_METHODS = ("Mean kurtosis", "SAR", "Verbalized confidence", "P(True)")
CLIPPED = """(el) => el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1"""


def wait_idle(page) -> None:
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=RESULT_TIMEOUT_MS)


def assert_descriptions_read_in_full(page, container: str) -> None:
    """Every 'What it measures' cell of the table in this container is text in the page, none of it cut off."""
    table = page.locator(f"[class*='st-key-{container}'] table")
    table.wait_for(timeout=30_000)
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    column = headers.index("What it measures") + 1
    cells = table.locator(f"tbody tr td:nth-child({column}), tbody tr th:nth-child({column})")
    assert cells.count() >= 1
    for index in range(cells.count()):
        cell = cells.nth(index)
        assert len(cell.inner_text()) > 40 and cell.is_visible() and not cell.evaluate(CLIPPED)


def test_method_table_and_answer_length_match_the_text_page(page, app_url):
    page.goto(f"{app_url}/sequence", wait_until="domcontentloaded")
    page.get_by_text("Estimated total").wait_for(timeout=RESULT_TIMEOUT_MS)
    page.get_by_text("What each method measures, its paper, range and cost").click()
    assert_descriptions_read_in_full(page, "seq_method_table")
    page.get_by_text("Model, sampling and meaning settings").click()
    sequence_tokens = page.get_by_role("spinbutton", name="Max new tokens").input_value()
    page.screenshot(path=str(ARTIFACTS / "sequence-page-method-table.png"), full_page=True)
    page.goto(f"{app_url}/text", wait_until="domcontentloaded")
    page.get_by_text("Model and generation settings").click(timeout=RESULT_TIMEOUT_MS)
    text_tokens = page.get_by_role("spinbutton", name="Max new tokens")
    text_tokens.wait_for(timeout=30_000)
    assert sequence_tokens == text_tokens.input_value() == "48"


def test_a_small_run_shows_scores_clusters_graph_and_sar(page, app_url):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{app_url}/sequence", wait_until="domcontentloaded")
    page.get_by_text("Estimated total").wait_for(timeout=RESULT_TIMEOUT_MS)
    for label in SLOW_METHODS:  # turn the slowest methods off to keep the run short
        page.get_by_role("button", name=label, exact=True).click()
        wait_idle(page)
    page.get_by_text("Model, sampling and meaning settings").click()
    page.get_by_role("slider", name="Samples K").press("Home")  # K = 2
    wait_idle(page)
    tokens = page.get_by_role("spinbutton", name="Max new tokens")
    tokens.fill("6")
    tokens.press("Enter")
    wait_idle(page)
    page.get_by_role("textbox", name="Prompt").fill("What is the capital of <b>France</b>?")
    page.get_by_role("button", name="Run the selected methods").click()
    page.locator(OVERVIEW).wait_for(timeout=RESULT_TIMEOUT_MS)
    assert page.locator(HEATMAP_BARS).count() >= 2
    assert_descriptions_read_in_full(page, "seq_scores_table")
    page.screenshot(path=str(ARTIFACTS / "sequence-page-scores.png"), full_page=True)
    page.get_by_role("tab", name="Samples and meanings").click()
    page.get_by_text("Meaning #1").wait_for(timeout=30_000)
    page.get_by_role("tab", name="Similarity graph").click()
    page.locator("[class*='st-key-seq_graph_matrix'] .js-plotly-plot").wait_for(timeout=30_000)
    page.get_by_role("tab", name="SAR relevance").click()
    page.locator("[class*='st-key-seq_sar_sar'] .js-plotly-plot").wait_for(timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "sequence-page-sar.png"), full_page=True)
    assert not page.locator("[data-testid='stException']").count()
    assert not page.locator("[data-testid='stMain'] b", has_text="France").count()
    assert not dialogs
