"""Every figure can be downloaded: hovering shows plotly's toolbar, whose camera button saves a PNG, or an SVG
once the sidebar says so, named after the figure."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import ARTIFACTS, HEATMAP_BARS, RESULT_TIMEOUT_MS, analyze, wait_until_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CAMERA = "[class*='st-key-text_answer_heatmap'] .modebar-btn[data-title^='Download plot']"


def download_heatmap(page) -> tuple[str, bytes]:
    """Hover the answer heatmap, press its camera button; the downloaded file's name and first bytes."""
    box = page.locator(HEATMAP_BARS).first.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    camera = page.locator(CAMERA)
    camera.wait_for(timeout=10_000)
    with page.expect_download(timeout=60_000) as download:
        camera.click()
    path = download.value.path()
    with open(path, "rb") as file:
        return download.value.suggested_filename, file.read(200)


def test_the_heatmap_downloads_as_png_then_as_svg(browser, app_url):
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{app_url}/text", wait_until="domcontentloaded")
    page.get_by_role("textbox", name="Prompt").wait_for(timeout=RESULT_TIMEOUT_MS)   # first run loads the backend
    analyze(page, app_url, "What is the capital of France?")
    name, head = download_heatmap(page)
    assert name == "uqlens-token-heatmap.png" and head.startswith(b"\x89PNG")
    page.get_by_text("SVG (vector, for papers and slides)").click()
    page.wait_for_function("() => { const plot = document.querySelector(\"[class*='st-key-text_answer_heatmap'] "
                           ".js-plotly-plot\"); return plot && plot._context && "
                           "plot._context.toImageButtonOptions.format === 'svg'; }", timeout=RESULT_TIMEOUT_MS)
    wait_until_idle(page, timeout_s=180)
    name, head = download_heatmap(page)
    page.screenshot(path=str(ARTIFACTS / "figure-download.png"))
    assert name == "uqlens-token-heatmap.svg" and b"<svg" in head
    context.close()
