"""The Text page in a real browser: the heatmap renders, a click selects a token, HTML in a prompt stays text."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import ARTIFACTS, HEATMAP_BARS, RESULT_TIMEOUT_MS, analyze, click_centre

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module", autouse=True)
def text_page_loaded_once(browser, app_url):
    """Open the Text page once before the tests: the app's first run imports the backend, which on a busy machine
    takes longer than a test's 30 s wait for the form."""
    context = browser.new_context()
    warm = context.new_page()
    warm.goto(f"{app_url}/text", wait_until="domcontentloaded")
    warm.get_by_role("textbox", name="Prompt").wait_for(timeout=RESULT_TIMEOUT_MS)
    context.close()


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


HEATMAP = "[class*='st-key-text_answer_heatmap']"
HOVER_BOX = f"{HEATMAP} .js-plotly-plot .hoverlayer g.hovertext"
EDGE_TOLERANCE_PX = 4


def hover_centre(page, locator) -> None:
    """Move the mouse onto a plotly point as a user would (from just off it, in steps, so plotly sees a hover)."""
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    page.mouse.move(box["x"] - 20, box["y"] - 20)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=5)


def inside(inner: dict, outer: dict, tolerance: float) -> bool:
    """Whether box inner lies within box outer (playwright bounding boxes), give or take tolerance px."""
    return (inner["x"] >= outer["x"] - tolerance and inner["y"] >= outer["y"] - tolerance
            and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + tolerance
            and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + tolerance)


def test_hovering_a_token_of_a_one_line_scored_answer_shows_its_label(page, app_url):
    analyze(page, app_url, "What is the capital of France?", answer="Paris.")
    hover_centre(page, page.locator(HEATMAP_BARS).first)
    label = page.locator(HOVER_BOX).first
    label.wait_for(state="visible", timeout=10_000)
    page.screenshot(path=str(ARTIFACTS / "text-page-one-line-hover.png"), full_page=True)
    figure = page.locator(f"{HEATMAP} .js-plotly-plot .main-svg").first.bounding_box()
    viewport = {"x": 0, "y": 0, **page.viewport_size}
    box = label.bounding_box()
    assert box["height"] > 100  # the whole label: title, numbers and the top alternatives
    assert inside(box, figure, EDGE_TOLERANCE_PX) and inside(box, viewport, 0)
    assert "probability" in label.text_content()


def test_a_scored_answer_is_captioned_scored_and_its_tokens_called_given(page, app_url):
    analyze(page, app_url, "What is the capital of France?", answer="Paris.")  # 'Paris' is rank 12 here
    main = page.locator("[data-testid='stMain']")
    caption = main.get_by_text("tokens scored").inner_text()
    assert "given answer" in caption and "greedy" not in caption
    click_centre(page, page.locator(HEATMAP_BARS).first)
    note = main.get_by_text("Given in the answer you supplied")
    note.wait_for(timeout=30_000)
    note.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "text-page-scored-detail.png"))
    assert "this token is rank" in note.inner_text() and "sampled" not in main.inner_text()


def test_hebrew_reads_right_to_left_and_a_split_emoji_is_one_glyph(page, app_url):
    analyze(page, app_url, "Say hello.", answer="שלום עולם 🎉")
    bars = page.locator(HEATMAP_BARS)
    page.screenshot(path=str(ARTIFACTS / "text-page-rtl-emoji.png"), full_page=True)
    lefts = [bars.nth(i).bounding_box()["x"] for i in range(bars.count())]
    assert lefts[0] > lefts[1] > lefts[2]  # the first letters of שלום are the rightmost boxes
    heatmap_text = page.locator(HEATMAP).inner_text()
    assert heatmap_text.count("🎉") == 1 and "·" not in heatmap_text
