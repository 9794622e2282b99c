"""Views that change in the browser (components.client_view), in Chromium on the real default models: the Text
page's Colour by switch recolours the heatmap with the entropies of a direct analysis and its token click shows
that token's numbers, the Calibration page's live temperature shows the ECE computed by hand at the picked
temperature, the Attention page's layer / head change draws one head's map equal to a direct transformers
forward's, and none of them runs the script again; a save then names the map shown, even when pressed at once."""
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
    page.wait_for_function("(s) => document.querySelector(s).layout.annotations[0].text === 'T = 1.15'",
                           arg="[class~='st-key-calib_live_figure'] .js-plotly-plot", timeout=10_000)
    page.screenshot(path=str(ARTIFACTS / "calibration-live-temperature.png"), full_page=True)
    assert page.evaluate("() => window.__runs") == 0


ATTENTION_PROMPT, ATTENTION_ANSWER = "Name a fruit.", "Apples are sweet and crisp."
MATRIX = "[class~='st-key-attn_attention_matrix'] .js-plotly-plot"
GRID_POINTS = "[class~='st-key-attn_head_grid'] .js-plotly-plot g.trace.scatter .point"
MAP_VIEW = "[class~='st-key-attn_map_view']"


def direct_head_window(lm, ids: list[int], layer: int, head: int, size: int) -> list[list[float]]:
    """The last `size` x `size` window of one head's map from our own transformers forward, as the page draws it
    (4 decimals, blank above the diagonal)."""
    import torch
    with torch.no_grad():
        out = lm.model(input_ids=torch.tensor([ids]), output_attentions=True)
    block = out.attentions[layer][0, head, -size:, -size:].double()
    return [[round(float(v), 4) if j <= i else None for j, v in enumerate(row)] for i, row in enumerate(block)]


def test_layer_and_head_change_in_the_browser_and_the_save_names_the_map_shown(page, browser, tmp_path,
                                                                                default_lm):
    from backend.store.repository import Store
    from tests.e2e.conftest import free_port, press_save_until_saved, streamlit_app

    database = f"sqlite:///{tmp_path / 'saved.sqlite'}"
    with streamlit_app(free_port(), {"UQLENS_DATABASE_URL": database}) as url:
        page.goto(f"{url}/attention", wait_until="domcontentloaded")
        page.get_by_role("textbox", name="Prompt").wait_for(timeout=RESULT_TIMEOUT_MS)
        page.get_by_role("textbox", name="Prompt").fill(ATTENTION_PROMPT)
        page.get_by_role("textbox", name="Answer to score (optional)").fill(ATTENTION_ANSWER)
        page.get_by_role("button", name="Analyze").click()
        page.locator(GRID_POINTS).first.wait_for(timeout=RESULT_TIMEOUT_MS)
        wait_until_idle(page)
        page.locator(MAP_VIEW).get_by_text("looked (layer 30, mean of heads)").wait_for(timeout=10_000)
        page.evaluate(RUNS)
        page.locator(MAP_VIEW).locator("label", has_text="One head").click()
        expect(page.locator(MAP_VIEW).get_by_text("looked (layer 30, head 1)")).to_be_visible(timeout=10_000)
        click_centre(page, page.locator(GRID_POINTS).nth(1 * 9 + 2))             # layer 2, head 3
        expect(page.locator(MAP_VIEW).get_by_text("looked (layer 2, head 3)")).to_be_visible(timeout=10_000)
        assert page.evaluate(f"() => document.querySelector(\"{MATRIX}\").layout.title.text") == \
            "layer 2, head 3: query x key"
        assert "Layer: 2" in page.locator(MAP_VIEW).inner_text() and "Head: 3" in page.locator(MAP_VIEW).inner_text()
        assert page.evaluate("() => window.__runs") == 0                         # drawn before any rerun
        z = page.evaluate(f"() => document.querySelector(\"{MATRIX}\").data[0].z")
        ids = analyze_text(default_lm, TextRequest(prompt=ATTENTION_PROMPT, answer=ATTENTION_ANSWER)).ids
        expected = direct_head_window(default_lm, ids, 1, 2, len(z))
        assert [[None if v is None else pytest.approx(v, abs=1.01e-4) for v in row] for row in z] == expected
        page.wait_for_timeout(1500)                                             # the page follows (500 ms)
        wait_until_idle(page)
        page.get_by_text("Save this analysis").click()
        page.get_by_label("Title").fill("head 3 of layer 2")
        press_save_until_saved(page)
        saved = Store(database).list(kind="attention")[0]
        item = Store(database).get(saved.id)
        view = item.payload["attention"]["view"]
        assert (view["aggregation"], view["layer"], view["head"]) == ("head", 1, 2)
        assert item.title == "head 3 of layer 2"
        assert page.locator(MAP_VIEW).get_by_text("looked (layer 2, head 3)").is_visible()
        page.screenshot(path=str(ARTIFACTS / "attention-page-client-view.png"), full_page=True)
        page.locator(MAP_VIEW).locator("label", has_text="Rollout (all layers)").click()
        page.get_by_role("button", name="Save", exact=True).click()             # at once: the change is sent first
        for _ in range(120):                                                     # another view, another item
            items = Store(database).list(kind="attention")
            if len(items) == 2:
                break
            page.wait_for_timeout(500)
        assert len(items) == 2
        views = [Store(database).get(i.id) for i in items]
        rollout = next(v for v in views if v.payload["attention"]["view"]["aggregation"] == "rollout")
        assert rollout.title == "head 3 of layer 2"                              # the title typed stays
        assert not page.locator("[data-testid='stException']").count()
