"""The Calibration & audits page in a real browser on a model served by the session's vLLM: the served model is
offered for the bundled questions with a Requests in flight control, and a small audit runs through the engine
to its metrics and items (each estimated entropy score with its bounds)."""
from __future__ import annotations

from typing import Iterator

import pytest

from tests.e2e.conftest import ARTIFACTS, free_port, streamlit_app, wait_until_idle
from tests.vllm_server import SERVED_NAME

pytestmark = [pytest.mark.browser, pytest.mark.vllm, pytest.mark.slow]


@pytest.fixture(scope="module")
def served_app_url(vllm_url) -> Iterator[str]:
    """The app with the vLLM-served default model registered as 'served'."""
    with streamlit_app(free_port(), {"UQLENS_TEXT_MODELS": f"served=openai+{vllm_url}#{SERVED_NAME}"}) as url:
        yield url


def test_a_small_question_audit_runs_through_the_engine(page, served_app_url):
    page.goto(f"{served_app_url}/calibration", wait_until="domcontentloaded")
    page.get_by_text("Confidence methods").wait_for(timeout=120_000)
    wait_until_idle(page)
    page.get_by_test_id("stSelectbox").filter(has_text="Text model").click()
    page.get_by_role("option", name="served", exact=True).click()
    in_flight = page.get_by_role("spinbutton", name="Requests in flight")
    in_flight.wait_for(timeout=60_000)
    wait_until_idle(page)
    page.get_by_text("served is served by vllm: one request per question").wait_for(timeout=30_000)
    in_flight.fill("4")
    in_flight.press("Enter")
    items = page.get_by_label("Items (first N)", exact=True)
    items.fill("6")
    items.press("Enter")
    wait_until_idle(page)
    page.get_by_role("button", name="Run audit").click()
    try:
        page.get_by_text("6 items, accuracy").wait_for(timeout=180_000)
        page.get_by_text("model served · data builtin-qa").wait_for(timeout=30_000)
        wait_until_idle(page)
        page.get_by_role("tab", name="Items").filter(visible=True).first.click()
        page.get_by_text("Grading: normalised alias match").wait_for(timeout=30_000)
    finally:
        page.screenshot(path=str(ARTIFACTS / "calibration-page-served.png"), full_page=True)
    assert not page.locator("[data-testid='stException']").count()
