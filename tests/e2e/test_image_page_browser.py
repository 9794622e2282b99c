"""The Image page in a real browser: a sample photo is classified, both uncertainty methods run, saliency
overlays render with the photo under them; bad uploads get a clear message; choosing a file selects it; the class
to explain follows a new photo."""
from __future__ import annotations

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, choose_option, wait_until_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]
RESULT_TIMEOUT_MS = 300_000
PREDICTION = "[class*='st-key-image_prediction_class_probabilities'] .js-plotly-plot"
ENTROPY_SPLIT = "[class*='st-key-image_uncertainty_entropy_split'] .js-plotly-plot"
OVERLAYS = "[class*='st-key-image_saliency_overlay'] .js-plotly-plot"


def classify(page, url: str) -> None:
    """Open the Image page and classify the default sample photo (the cat)."""
    page.goto(f"{url}/image", wait_until="domcontentloaded")
    page.get_by_role("button", name="Classify").click(timeout=RESULT_TIMEOUT_MS)
    page.locator(PREDICTION).first.wait_for(timeout=RESULT_TIMEOUT_MS)


def test_sample_photo_prediction_uncertainty_and_overlays(page, app_url):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    classify(page, app_url)
    assert "tiger cat" in page.locator(PREDICTION).first.inner_text()
    page.locator("[class*='st-key-image_passes'] input[type='range']").press("Home")  # K = 2: a quick test
    page.get_by_role("button", name="Run MC dropout and test-time augmentation").click()
    page.locator(ENTROPY_SPLIT).first.wait_for(timeout=RESULT_TIMEOUT_MS)
    for slow in ("Integrated gradients", "Occlusion"):
        page.get_by_role("button", name=f"Remove {slow}").first.click()
        wait_until_idle(page)
    choose_option(page, "Methods", "Layer", "Layer-CAM")
    page.keyboard.press("Escape")  # close the list, which hides the rest of the page from assistive tech
    page.get_by_role("button", name="Explain").click()
    page.locator(OVERLAYS).nth(1).wait_for(timeout=RESULT_TIMEOUT_MS)
    overlay = page.locator(OVERLAYS).first
    overlay.locator("g.imagelayer image").first.wait_for(timeout=30_000)  # the photo under the map
    assert overlay.locator("g.heatmaplayer image").count() == 1  # the map, drawn as a raster above it
    assert page.locator(OVERLAYS).count() == 2  # Grad-CAM and Layer-CAM
    assert page.get_by_text("Explaining").count() and page.get_by_text("Overlay opacity").count()
    page.set_viewport_size({"width": 1280, "height": 3600})
    page.screenshot(path=str(ARTIFACTS / "image-page.png"), full_page=True)
    assert not page.locator("[data-testid='stException']").count()
    assert not dialogs


def upload_and_classify(page, url: str, name: str, data: bytes) -> None:
    page.goto(f"{url}/image", wait_until="domcontentloaded")
    page.get_by_role("button", name="Classify").wait_for(timeout=RESULT_TIMEOUT_MS)
    wait_until_idle(page, timeout_s=RESULT_TIMEOUT_MS / 1000)  # a click during the first run can be redrawn away
    page.get_by_text("Upload", exact=True).first.click()
    expect(page.get_by_role("radio", name="Upload")).to_be_checked(timeout=60_000)
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
        files=[{"name": name, "mimeType": "image/png", "buffer": data}])
    page.get_by_text(name).first.wait_for(timeout=60_000)
    wait_until_idle(page)
    page.get_by_role("button", name="Classify").click()


def test_bad_uploads_get_clear_messages(page, app_url):
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), (40, 90, 160)).save(buffer, "PNG")
    upload_and_classify(page, app_url, "cut.png", buffer.getvalue()[:400])
    page.get_by_text("truncated or corrupt").first.wait_for(timeout=RESULT_TIMEOUT_MS)
    gif = io.BytesIO()
    Image.new("RGB", (30, 20)).save(gif, "GIF")
    upload_and_classify(page, app_url, "not-really.png", gif.getvalue())
    page.get_by_text("This file is a GIF image").first.wait_for(timeout=RESULT_TIMEOUT_MS)
    page.screenshot(path=str(ARTIFACTS / "image-page-bad-upload.png"), full_page=True)
    assert not page.locator("[data-testid='stException']").count()


def test_choosing_a_file_selects_it_without_switching_the_source(page, app_url):
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (200, 60, 40)).save(buffer, "PNG")
    page.goto(f"{app_url}/image", wait_until="domcontentloaded")
    page.get_by_role("button", name="Classify").wait_for(timeout=RESULT_TIMEOUT_MS)
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
        files=[{"name": "red.png", "mimeType": "image/png", "buffer": buffer.getvalue()}])
    page.get_by_text("red.png").first.wait_for(timeout=30_000)
    expect(page.get_by_role("radio", name="Upload")).to_be_checked(timeout=60_000)
    page.get_by_role("button", name="Classify").click()
    page.get_by_text("red.png: 320 x 240 PNG").first.wait_for(timeout=RESULT_TIMEOUT_MS)
    assert not page.locator("[data-testid='stException']").count()


def class_to_explain(page):
    """The 'Another class' select box."""
    return page.get_by_role("combobox", name="Class (for 'Another class')")


def test_the_class_to_explain_follows_a_new_photo(page, app_url):
    classify(page, app_url)
    expect(class_to_explain(page)).to_have_value("282: tiger cat", timeout=RESULT_TIMEOUT_MS)
    page.get_by_role("combobox", name="Sample photo").click()
    page.get_by_role("option", name="Coffee cup").click()
    wait_until_idle(page)
    page.get_by_role("button", name="Classify").click()
    page.get_by_text("coffee:").first.wait_for(timeout=RESULT_TIMEOUT_MS)
    wait_until_idle(page)
    expect(class_to_explain(page)).not_to_have_value("282: tiger cat", timeout=RESULT_TIMEOUT_MS)
    shown = class_to_explain(page).input_value()
    assert shown.split(":", 1)[1].strip() in page.locator(PREDICTION).first.inner_text()  # the new top class
