"""Views that change in the browser (components.client_view), in Chromium on the real default models: the Text
page's Colour by switch recolours the heatmap with the entropies of a direct analysis and its token click shows
that token's numbers, the Calibration page's live temperature shows the ECE computed by hand at the picked
temperature, and none of them runs the script again."""
from __future__ import annotations

import numpy as np
import pytest
from playwright.sync_api import expect

from backend.audit import runner
from backend.audit.store import AuditStore
from backend.schemas import TextRequest
from backend.schemas.audit import AuditRequest
from backend.text.generation import analyze_text
from tests.e2e.conftest import ARTIFACTS, HEATMAP_BARS, RESULT_TIMEOUT_MS, analyze, click_centre, wait_until_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PROMPT, ANSWER = "What is the capital of France?", "Paris is the capital."
HEATMAP = "[class*='st-key-text_answer_heatmap'] .js-plotly-plot"
COLOURS = "(s) => Array.from(document.querySelector(s).data[0].marker.color)"
RUNS = ("() => { window.__runs = 0; const app = document.querySelector('[data-testid=\"stApp\"]'); "
        "new MutationObserver(() => { if (app.getAttribute('data-test-script-state') === 'running') "
        "window.__runs++; }).observe(app, {attributes: true}); }")


def test_colour_by_and_a_token_click_change_the_text_view_without_a_rerun(page, app_url, default_lm):
    analyze(page, app_url, PROMPT, answer=ANSWER)
    wait_until_idle(page)
    direct = analyze_text(default_lm, TextRequest(prompt=PROMPT, answer=ANSWER, top_k=20))
    assert page.evaluate(COLOURS, HEATMAP) == pytest.approx([1 - t.prob for t in direct.tokens], abs=1e-6)
    page.evaluate(RUNS)
    page.locator("[class*='st-key-text_measure_view'] label", has_text="Entropy").click()
    expected = [min(1.0, t.entropy / 4.0) for t in direct.tokens]  # entropy's colour range is 0-4 nats
    page.wait_for_function(f"(s) => Math.abs(document.querySelector(s).data[0].marker.color[0] - {expected[0]}) "
                           f"< 1e-6", arg=HEATMAP, timeout=10_000)
    assert page.evaluate(COLOURS, HEATMAP) == pytest.approx(expected, abs=1e-6)
    assert page.evaluate("(s) => document.querySelector(s).data[0].marker.colorbar.title.text", HEATMAP) == \
        "Entropy (nats)"
    assert "Entropy (nats): spread of the next-token distribution" in \
        page.locator("[class*='st-key-text_measure_view']").inner_text()
    click_centre(page, page.locator(HEATMAP_BARS).nth(2))
    detail = page.locator("[class*='st-key-text_detail_view']")
    detail.get_by_text("Selected token").wait_for(timeout=10_000)
    token = direct.tokens[2]
    assert f"{token.text!r} at position {token.position}" in detail.inner_text()
    assert f"{token.prob:.3f}" in detail.inner_text() and "Given in the answer you supplied" in detail.inner_text()
    curve = "[class*='st-key-text_answer_curve'] .js-plotly-plot"
    assert page.evaluate("(s) => document.querySelector(s).layout.shapes[0].x0", curve) == 2
    page.screenshot(path=str(ARTIFACTS / "text-page-client-view.png"), full_page=True)
    assert page.evaluate("() => window.__runs") == 0
    assert not page.locator("[data-testid='stException']").count()


def digits_confidences(engine, tmp_path) -> tuple[np.ndarray, np.ndarray]:
    """The softmax confidences and correctness of the first 120 digits, audited in-process."""
    result = runner.run_audit(AuditRequest(dataset="builtin-digits", methods=["softmax"], limit=120), engine,
                              AuditStore(f"sqlite:///{tmp_path}/audit.sqlite"))
    return (np.array([i.scores["softmax"] for i in result.items]),
            np.array([i.is_correct for i in result.items], dtype=float))


def ece_by_hand(confidence: np.ndarray, correct: np.ndarray, temperature: float, n_bins: int = 10) -> float:
    """ECE over equal-width bins of sigmoid(logit(c) / T), the last bin closed at 1."""
    c = np.clip(confidence, 1e-12, 1 - 1e-12)
    scaled = 1 / (1 + np.exp(-np.log(c / (1 - c)) / temperature))
    index = np.minimum((scaled * n_bins).astype(int), n_bins - 1)
    return float(sum(abs(correct[index == b].mean() - scaled[index == b].mean()) * (index == b).sum()
                     for b in range(n_bins) if (index == b).any()) / len(c))


def test_the_live_temperature_shows_the_ece_at_the_picked_temperature(page, app_url, engine, tmp_path):
    confidence, correct = digits_confidences(engine, tmp_path)
    page.goto(f"{app_url}/calibration", wait_until="domcontentloaded")
    page.get_by_text("Digits classifier (held-out scikit-learn digits)").click()
    expect(page.get_by_label("Max new tokens", exact=True)).to_be_disabled(timeout=RESULT_TIMEOUT_MS)
    wait_until_idle(page)
    items = page.get_by_label("Items (first N)", exact=True)
    items.fill("120")
    items.press("Enter")
    wait_until_idle(page)
    page.get_by_role("button", name="Run audit").click()
    page.get_by_text("120 items, accuracy").wait_for(timeout=RESULT_TIMEOUT_MS)
    page.get_by_role("tab", name="Recalibration").click()
    wait_until_idle(page)
    view = page.locator("[class*='st-key-calib_temperature']")
    view.get_by_text("ECE of all items at T = 1.00").wait_for(timeout=10_000)  # the component draws after the run
    assert f"{ece_by_hand(confidence, correct, 1.0):.4f}" in view.inner_text()
    page.evaluate(RUNS)
    slider = view.locator("input[type='range']")
    slider.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    view.get_by_text("Try a temperature: 1.15").wait_for(timeout=10_000)
    assert f"{ece_by_hand(confidence, correct, 1.15):.4f}" in view.inner_text()
    title = "(s) => document.querySelector(s).layout.annotations[0].text"
    assert page.evaluate(title, "[class*='st-key-calib_live_figure'] .js-plotly-plot") == "T = 1.15"
    page.screenshot(path=str(ARTIFACTS / "calibration-live-temperature.png"), full_page=True)
    assert page.evaluate("() => window.__runs") == 0
