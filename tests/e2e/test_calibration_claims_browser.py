"""An audit graded claim by claim in a real browser: a JSONL of given responses with labelled claims uploads, the
audit runs, and the Claims tab shows the claim-level numbers, every claim with its label, and one response
shaded claim by claim."""
from __future__ import annotations

import json

import pytest

from tests.backend.audit.test_claim_grading import ROWS
from tests.e2e.conftest import ARTIFACTS, wait_until_idle
from tests.e2e.test_calibration_page_browser import upload_and_run

pytestmark = [pytest.mark.browser, pytest.mark.slow]
MORE = [{"id": "sun", "question": "What is the Sun?", "response": "The Sun is a star. It orbits the Earth once a day.",
         "claims": [{"text": "The Sun is a star.", "correct": True},
                    {"text": "It orbits the Earth once a day.", "correct": False}]}]


def test_a_claims_dataset_uploads_and_the_claims_tab_shows_every_claim(page, app_url, tmp_path):
    dataset = tmp_path / "claims.jsonl"
    dataset.write_text("\n".join(json.dumps(row) for row in ROWS[:2] + MORE))
    page.set_viewport_size({"width": 1400, "height": 2400})
    page.goto(f"{app_url}/calibration", wait_until="domcontentloaded")
    page.get_by_text("Upload a file (JSONL/CSV of questions and answers").click()
    upload_and_run(page, dataset, "mean_logprob,max_entropy")
    try:
        page.get_by_text("3 items, accuracy").wait_for(timeout=180_000)
        wait_until_idle(page)
        page.get_by_role("tab", name="Claims").click()
        page.get_by_text("6 labelled claims, 66.7% right").wait_for(timeout=60_000)
        page.locator("[class*='st-key-calib_claim_risk_coverage'] .js-plotly-plot").wait_for(timeout=30_000)
        shaded = page.locator("span[title^='Mean -log p']")
        shaded.first.wait_for(timeout=30_000)
        assert shaded.count() == 3 and "The Moon orbits the Earth." in shaded.first.inner_text()
    finally:
        page.screenshot(path=str(ARTIFACTS / "calibration-page-claims.png"))
    assert not page.locator("[data-testid='stException']").count()
