"""The Sequence page on a served model (a real vLLM), under Streamlit's AppTest: the model is offered, mean kurtosis
is greyed out with the reason (never sent), the token-entropy methods say they are estimates, the cost is estimated
through the engine, and Analyze shows the scores with the entropy bounds."""
from __future__ import annotations

import pytest

from tests.app.pages import open_page
from tests.app.streamlit_caches import fresh_streamlit_caches
from tests.vllm_server import SERVED_NAME

pytestmark = [pytest.mark.slow, pytest.mark.vllm]
GROUPS = ("generation", "samples", "ask")


def test_the_sequence_page_runs_a_served_model_and_greys_out_what_it_cannot_do(monkeypatch, vllm_url):
    monkeypatch.setenv("UQLENS_TEXT_MODELS", f"served=openai+{vllm_url}#{SERVED_NAME}")
    with fresh_streamlit_caches():
        at = open_page("sequence_page.py")
        assert "served" in at.selectbox(key="seq_model").options
        at.selectbox(key="seq_model").set_value("served").run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        greyed = at.pills(key="seq_unavailable_generation")
        assert greyed.disabled and greyed.options == ["Mean kurtosis", "RAUQ", "UQAC attention chain"] and greyed.value == []
        captions = " ".join(c.value for c in at.caption)
        assert ("Mean kurtosis needs the full next-token distribution: pick a model loaded in UQ Lens's process"
                in captions)
        assert "Mean token entropy and Max token entropy are estimates" in captions
        offered = {g: at.pills(key=f"seq_methods_{g}_limited").options for g in GROUPS}
        assert "Mean kurtosis" not in offered["generation"] and sum(len(o) for o in offered.values()) == 25
        assert "Mean token entropy (estimate)" in offered["generation"]
        assert any(c.value.startswith("Estimated total") for c in at.caption)  # timed through the engine

        at.pills(key="seq_methods_generation_limited").set_value(["mean_token_entropy", "perplexity"])
        at.pills(key="seq_methods_samples_limited").set_value(["semantic_entropy"])
        at.pills(key="seq_methods_ask_limited").set_value(["p_true"])
        at.slider(key="seq_samples").set_value(3)
        at.number_input(key="seq_max_new_tokens").set_value(8)
        at.run()
        at.text_area(key="seq_prompt").set_value("What is the capital of France?")
        next(b for b in at.button if b.label == "Run the selected methods").click()
        at.run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        table = [t.value for t in at.table if "Score" in t.value.columns][0]
        assert list(table["Score"]) == ["Mean token entropy (estimate)", "Perplexity", "Semantic entropy", "P(True)"]
        assert table["Value"][0].startswith("≈ ") and " to " in table["Value"][0]
        captions = " ".join(c.value for c in at.caption)
        assert "3 answers sampled in one batched call" in captions and "before temperature" in captions
        assert "Served by vllm" in captions
