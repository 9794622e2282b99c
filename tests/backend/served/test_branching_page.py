"""Branching on the Text page with a served model (a real vLLM), under AppTest: "Continue from here" (asked as its
button in the browser's token detail asks it, app.branching.ask_branch) makes a branch through the engine whose forced token has the probability the served parent listed; Open on Attention page is
off for it (a served model gives no attention)."""
from __future__ import annotations

import pytest

from app.branching import PENDING, TREE
from tests.app.pages import open_page
from tests.app.streamlit_caches import fresh_streamlit_caches
from tests.backend.served.test_against_vllm import LOGPROB_TOL
from tests.vllm_server import SERVED_NAME

pytestmark = [pytest.mark.slow, pytest.mark.vllm]
STEP = 4


def test_a_served_answer_branches_on_the_text_page(monkeypatch, vllm_url):
    monkeypatch.setenv("UQLENS_TEXT_MODELS", f"served=openai+{vllm_url}#{SERVED_NAME}")
    with fresh_streamlit_caches():
        at = open_page("text_page.py")
        at.selectbox(key="text_model").set_value("served")
        at.text_area(key="text_prompt").set_value("What is the capital of France?")
        at.number_input(key="text_max_new_tokens").set_value(8)
        at.button[0].click().run()
        token = at.session_state[TREE].nodes[0].analysis.tokens[STEP]
        alternative = next(a for a in token.top_k if a.id != token.id)
        at.session_state[PENDING] = (0, STEP, alternative.model_dump())
        at.run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        root, branch = at.session_state[TREE].nodes
        forced = branch.analysis.tokens[STEP]
        assert (branch.analysis.engine, forced.id, forced.forced) == ("vllm", alternative.id, True)
        assert forced.prob == pytest.approx(alternative.prob, abs=LOGPROB_TOL)
        assert next(b for b in at.button if b.key == "text_open_attention").disabled
