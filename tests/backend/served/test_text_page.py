"""The Text page on a served model (a real vLLM), under Streamlit's AppTest: the model is offered beside the local
ones, the answer is drawn with its ranks and entropy estimates, and the page says which numbers are estimated."""
from __future__ import annotations

import pytest

from tests.app.pages import open_page
from tests.app.streamlit_caches import fresh_streamlit_caches
from tests.vllm_server import SERVED_NAME

pytestmark = [pytest.mark.slow, pytest.mark.vllm]


def test_the_text_page_analyses_a_served_model_and_says_what_is_estimated(monkeypatch, vllm_url):
    monkeypatch.setenv("UQLENS_TEXT_MODELS", f"served=openai+{vllm_url}#{SERVED_NAME}")
    with fresh_streamlit_caches():
        at = open_page("text_page.py")
        assert "served" in at.selectbox(key="text_model").options
        at.selectbox(key="text_model").set_value("served")
        at.text_area(key="text_prompt").set_value("What is the capital of France?")
        at.button[0].click().run()
        assert not at.exception
        assert not at.error, [e.value for e in at.error]
        captions = " ".join(c.value for c in at.caption)
        assert "as the server reports them" in captions
        assert any("midpoint of entropy_bounds" in i.value for i in at.info)
