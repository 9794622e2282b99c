"""App and backend service as separate processes: save an analysis, restart both, find it again."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import ARTIFACTS, analyze, backend_service, free_port, streamlit_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TITLE = "Capital of France <b>check</b>"


def save_current_analysis(page, title: str, tags: str) -> None:
    """Open the save form under the analysis, fill it, save, wait for the confirmation."""
    page.get_by_text("Save this analysis").click()
    page.get_by_role("textbox", name="Title").fill(title)
    page.get_by_role("textbox", name="Tags").fill(tags)
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved as").wait_for(timeout=30_000)


def select_first_row(page) -> None:
    """Tick the first row of the saved-items table (a canvas grid: click its row-marker column)."""
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.wait_for(timeout=30_000)
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)


def test_saved_analysis_survives_restarting_app_and_service(browser, tmp_path):
    env = {"UQLENS_DATABASE_URL": f"sqlite:///{tmp_path / 'saved.sqlite'}"}
    api_port, app_port = free_port(), free_port()
    app_env = {**env, "UQLENS_BACKEND_URL": f"http://127.0.0.1:{api_port}"}
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    with backend_service(api_port, env), streamlit_app(app_port, app_env) as url:
        analyze(page, url, "What is the capital of France?")
        save_current_analysis(page, TITLE, "e2e, geography")
    with backend_service(api_port, env), streamlit_app(app_port, app_env) as url:
        page.goto(f"{url}/saved", wait_until="domcontentloaded")
        page.get_by_role("textbox", name="Search").fill("capital of france")
        page.keyboard.press("Enter")
        select_first_row(page)
        page.get_by_role("button", name="Export (JSON)").wait_for(timeout=60_000)
        page.locator("[class*='st-key-saved_view_answer_heatmap'] .js-plotly-plot g.trace.bars g.point").first \
            .wait_for(timeout=60_000)
        page.screenshot(path=str(ARTIFACTS / "saved-page-reopened.png"), full_page=True)
        assert TITLE in page.locator("h3").first.inner_text()
        assert "Paris" in page.locator("[class*='st-key-saved_view_answer_heatmap']").inner_text()
    page.close()
