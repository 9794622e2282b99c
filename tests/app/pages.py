"""Opening the app's pages under Streamlit's AppTest, for every page test."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

MAIN = str(Path(__file__).resolve().parents[2] / "app" / "main.py")
TIMEOUT_S = 300  # seconds one run may take: the first one loads the real default models


def open_page(page_file: str = "", *, timeout_s: float = TIMEOUT_S, **state) -> AppTest:
    """The app run once, with `state` in its session state first, then switched to page_file ("text_page.py") and
    run again; the Home page when page_file is empty."""
    at = AppTest.from_file(MAIN, default_timeout=timeout_s)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    if page_file:
        at.switch_page(page_file).run()
    return at


def classify_sample(at: AppTest, sample: str) -> AppTest:
    """On the Image page: pick a sample photo and press Classify."""
    at.selectbox(key="image_sample").set_value(sample)
    at.button(key="FormSubmitter:image_form-Classify").click().run()
    return at
