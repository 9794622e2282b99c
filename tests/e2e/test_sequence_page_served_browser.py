"""The Sequence uncertainty page in a real browser on a served model (the session's real vLLM): the model is picked
in the box, mean kurtosis is greyed out with the reason, a small run shows the scores with the entropy bounds and
says what the engine gave."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import ARTIFACTS, choose_option, free_port, streamlit_app, wait_until_idle
from tests.vllm_server import SERVED_NAME

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.vllm]
RESULT_TIMEOUT_MS = 300_000
OVERVIEW = "[class*='st-key-seq_scores_overview'] .js-plotly-plot"
SLOW_METHODS = ("SAR", "Verbalized confidence")


@pytest.fixture(scope="module")
def served_app_url(vllm_url):
    """The app with the vLLM-served default model registered as 'served'."""
    with streamlit_app(free_port(), {"UQLENS_TEXT_MODELS": f"served=openai+{vllm_url}#{SERVED_NAME}"}) as url:
        yield url


def test_the_sequence_page_runs_on_a_served_model_and_greys_out_kurtosis(page, served_app_url):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{served_app_url}/sequence", wait_until="domcontentloaded")
    page.get_by_text("Estimated total").wait_for(timeout=RESULT_TIMEOUT_MS)
    page.get_by_text("Model, sampling and meaning settings").click()
    choose_option(page, "Model", "served", "served")
    page.get_by_text("Mean kurtosis needs the full next-token distribution").wait_for(timeout=RESULT_TIMEOUT_MS)
    assert page.get_by_role("button", name="Mean kurtosis", exact=True).is_disabled()
    page.get_by_text("are estimates: each token entropy is the midpoint").wait_for(timeout=30_000)
    page.get_by_text("Estimated total").wait_for(timeout=RESULT_TIMEOUT_MS)  # timed through the engine
    for label in SLOW_METHODS:
        page.get_by_role("button", name=label, exact=True).click()
        wait_until_idle(page, RESULT_TIMEOUT_MS / 1000)
    page.get_by_role("slider", name="Samples K").press("Home")  # K = 2
    wait_until_idle(page, RESULT_TIMEOUT_MS / 1000)
    tokens = page.get_by_role("spinbutton", name="Max new tokens")
    tokens.fill("8")
    tokens.press("Enter")
    wait_until_idle(page, RESULT_TIMEOUT_MS / 1000)
    page.screenshot(path=str(ARTIFACTS / "sequence-page-served-methods.png"), full_page=True)
    page.get_by_role("textbox", name="Prompt").fill("What is the capital of France?")
    page.get_by_role("button", name="Run the selected methods").click()
    page.locator(OVERVIEW).wait_for(timeout=RESULT_TIMEOUT_MS)
    table = page.locator("[class*='st-key-seq_scores_table'] table")
    assert table.get_by_text("Mean token entropy (estimate)").count() == 1
    assert "≈" in table.inner_text() and "Mean kurtosis" not in table.inner_text()
    page.get_by_text("Served by vllm").wait_for(timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "sequence-page-served-scores.png"), full_page=True)
    page.get_by_role("tab", name="Asking the model").click()
    page.get_by_text("only the top-20").first.wait_for(timeout=30_000)
    assert not page.locator("[data-testid='stException']").count()
    assert not dialogs
