"""The pages under Streamlit's AppTest, on the real default model."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.pages import open_page
from tests.app.streamlit_caches import fresh_streamlit_caches

pytestmark = pytest.mark.slow


def open_text_page() -> AppTest:
    """The app switched to its Text page, run once."""
    return open_page("text_page.py")


def submit(at: AppTest, prompt: str, **widgets) -> AppTest:
    """Type a prompt (and other widget values by key), press Analyze."""
    at.text_area(key="text_prompt").set_value(prompt)
    for key, value in widgets.items():
        widget = at.text_area(key=key) if isinstance(value, str) else at.number_input(key=key)
        widget.set_value(value)
    at.button[0].click().run()
    return at


def test_home_offers_three_examples_without_errors():
    at = open_page()
    assert not at.exception
    assert at.title[0].value == "UQ Lens"
    assert len([b for b in at.button if b.label == "Open"]) == 3


def test_text_page_shows_heatmap_curve_and_summaries():
    at = submit(open_text_page(), "What is the capital of France?", text_max_new_tokens=12)
    assert not at.exception and not at.error
    metric_labels = [m.label for m in at.metric]
    assert {"Mean token probability", "Mean token entropy", "Perplexity"} <= set(metric_labels)
    assert any("tokens generated" in c.value for c in at.caption)
    assert not any(r.label == "Colour by" for r in at.radio)  # switched in the browser (components.token_client)


def test_scoring_a_given_answer():
    at = submit(open_text_page(), "What is the capital of France?", text_answer="Paris.")
    assert not at.exception and not at.error
    assert any("tokens scored" in c.value for c in at.caption)


def test_empty_prompt_says_what_to_do():
    at = submit(open_text_page(), "   ")
    assert not at.exception
    assert "The prompt is empty" in at.error[0].value


def test_prompt_longer_than_the_model_reads_names_the_limit():
    at = submit(open_text_page(), "word " * 9000)
    assert not at.exception
    assert "reads at most 8192 tokens" in at.error[0].value


def test_example_button_opens_the_text_page_and_runs_it():
    at = open_page()
    at.button(key="home_example_0").click().run()
    assert not at.exception and not at.error
    assert at.text_area(key="text_prompt").value == "What is the capital of France?"
    assert any("tokens generated" in c.value for c in at.caption)


def test_a_model_that_cannot_load_gets_a_clear_message(monkeypatch):
    monkeypatch.setenv("UQLENS_TEXT_MODELS", "broken-model=/nonexistent/model-folder")
    with fresh_streamlit_caches():
        at = open_text_page()
        at.selectbox(key="text_model").set_value("broken-model")
        at = submit(at, "Hello")
        assert not at.exception
        assert "could not be loaded" in at.error[0].value and "broken-model" in at.error[0].value


def test_saving_then_finding_it_on_the_saved_page():
    at = submit(open_text_page(), "What is the capital of France?", text_max_new_tokens=6)
    fields = {w.label: w for w in at.text_input}
    fields["Title"].set_value("AppTest save")
    fields["Tags"].set_value("apptest")
    next(b for b in at.button if b.label == "Save").click().run()
    assert not at.exception and any("Saved as" in s.value for s in at.success)
    at.switch_page("saved_page.py").run()
    at.text_input(key="saved_tag").set_value("apptest").run()
    assert not at.exception
    assert list(at.dataframe[0].value["title"]) == ["AppTest save"]


def test_backend_down_says_so_offers_retry_and_keeps_the_prompt(monkeypatch):
    monkeypatch.setenv("UQLENS_BACKEND_URL", "http://127.0.0.1:9")
    with fresh_streamlit_caches():
        at = submit(open_text_page(), "Is anyone there?")
        assert not at.exception
        assert any("cannot reach the backend" in w.value for w in at.warning)
        assert any(b.label == "Retry" for b in at.button)
        assert at.text_area(key="text_prompt").value == "Is anyone there?"
