"""Pages and a served model: the Text and Sequence pages offer it; the pages whose work needs a model in UQ Lens's
process (attention, saliency) leave it out of their model box and say why, instead of failing."""
from __future__ import annotations

import pytest

from tests.app.pages import open_page
from tests.app.streamlit_caches import fresh_streamlit_caches

pytestmark = pytest.mark.slow
SERVED = "served=openai+http://127.0.0.1:9/v1#big-model"  # never asked: listing models makes no request


@pytest.mark.parametrize("page, box, reason", [
    ("attention_page.py", "attn_model", "attention and saliency need a model loaded in UQ Lens's process"),
])
def test_pages_that_need_an_in_process_model_leave_a_served_one_out_and_say_why(monkeypatch, page, box, reason):
    monkeypatch.setenv("UQLENS_TEXT_MODELS", SERVED)
    with fresh_streamlit_caches():
        at = open_page(page)
        assert not at.exception
        assert "served" not in at.selectbox(key=box).options
        assert any("Not offered here: served" in c.value and reason in c.value for c in at.caption)


@pytest.mark.parametrize("page, box", [("text_page.py", "text_model"), ("sequence_page.py", "seq_model")])
def test_the_text_and_sequence_pages_offer_the_served_model(monkeypatch, page, box):
    monkeypatch.setenv("UQLENS_TEXT_MODELS", SERVED)
    with fresh_streamlit_caches():
        at = open_page(page)
        assert not at.exception
        assert "served" in at.selectbox(key=box).options
        assert not any("Not offered here" in c.value for c in at.caption)
