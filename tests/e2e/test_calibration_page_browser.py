"""The Calibration & audits page in a real browser: a digits audit runs, the diagrams render, a bin click lists
its items, and the report downloads; a labelled image zip uploads and is audited."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.backend.audit.photo_zips import write_labelled_zip
from tests.e2e.conftest import ARTIFACTS, wait_until_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]
RELIABILITY_TRACES = "[class*='st-key-calib_reliability_softmax'] .js-plotly-plot g.trace.bars"


def test_digits_audit_renders_and_a_bin_click_lists_its_items(page, app_url):
    page.goto(f"{app_url}/calibration", wait_until="domcontentloaded")
    page.get_by_text("Digits classifier (held-out scikit-learn digits)").click()
    # the Items box is keyed by source: typing before the rerun drew the digits form would type into the old one
    expect(page.get_by_label("Max new tokens", exact=True)).to_be_disabled(timeout=60_000)
    wait_until_idle(page)
    items = page.get_by_label("Items (first N)", exact=True)
    items.fill("120")
    items.press("Enter")
    wait_until_idle(page)
    assert items.input_value() == "120"
    page.get_by_role("button", name="Run audit").click()
    page.get_by_text("120 items, accuracy").wait_for(timeout=180_000)
    page.locator("[class*='st-key-calib_histogram'] .js-plotly-plot").wait_for(timeout=60_000)  # page finished
    last_bin = page.locator(RELIABILITY_TRACES).first.locator("g.point").last  # equal-width bin [0.9, 1]
    last_bin.scroll_into_view_if_needed()
    box = last_bin.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    try:
        page.get_by_text("equal-width bin 9").wait_for(timeout=30_000)
    finally:
        page.screenshot(path=str(ARTIFACTS / "calibration-page-digits.png"), full_page=True)
    page.get_by_role("tab", name="Export").filter(visible=True).first.click()
    with page.expect_download() as download:
        page.get_by_role("button", name="HTML report").click()
    assert download.value.suggested_filename.startswith("audit-")
    assert not page.locator("[data-testid='stException']").count()


def test_labelled_image_zip_uploads_and_audits(page, app_url, tmp_path):
    photos = write_labelled_zip(tmp_path / "photos.zip", prefix="photos/")
    page.goto(f"{app_url}/calibration", wait_until="domcontentloaded")
    page.get_by_text("Labelled images (a .zip of class folders)").click()
    page.get_by_text("How to lay out the zip").wait_for(timeout=30_000)
    page.locator("input[type='file']").first.set_input_files(str(photos))
    page.get_by_test_id("stFileChipName").wait_for(timeout=30_000)
    page.get_by_role("button", name="Run audit").click()
    try:
        page.get_by_text("4 items, accuracy").wait_for(timeout=180_000)
        page.get_by_text("model efficientnet-lite0 · data photos.zip").wait_for(timeout=30_000)
        page.get_by_role("tab", name="Items").click()
        page.get_by_text("right when the predicted class is the item's label").wait_for(timeout=30_000)
    finally:
        page.screenshot(path=str(ARTIFACTS / "calibration-page-images.png"), full_page=True)
    assert not page.locator("[data-testid='stException']").count()


def upload_and_run(page, path, methods_text: str = "p") -> None:
    """Put a dataset file in the upload box, audit it with these methods (a scores CSV's column p by default),
    press Run audit."""
    page.locator("input[type='file']").first.set_input_files(str(path))
    page.get_by_test_id("stFileChipName").filter(has_text=path.name).wait_for(timeout=30_000)
    methods = page.get_by_label("Methods (comma-separated")
    methods.fill(methods_text)
    methods.press("Tab")
    page.get_by_role("button", name="Run audit", exact=True).click()  # not "Stop (...; Run audit again resumes)"


def test_a_failed_upload_does_not_leave_the_previous_results(page, app_url, tmp_path):
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text("id,correct,p\n" + "".join(f"r{i},{int(i % 3 != 0)},{0.5 + i / 40:.3f}\n" for i in range(12)))
    bad.write_text("id,p\nr1,0.5\n")
    page.goto(f"{app_url}/calibration", wait_until="domcontentloaded")
    page.get_by_text("Upload a file (JSONL/CSV of questions and answers").click()
    upload_and_run(page, good)
    page.get_by_text("12 items, accuracy").wait_for(timeout=120_000)
    upload_and_run(page, bad)
    try:
        page.get_by_text("the CSV needs 'question' and 'answer' columns").wait_for(timeout=60_000)
        page.get_by_text("12 items, accuracy").wait_for(state="detached", timeout=30_000)
    finally:
        page.screenshot(path=str(ARTIFACTS / "calibration-page-failed-upload.png"), full_page=True)
    assert not page.locator("[data-testid='stException']").count()
