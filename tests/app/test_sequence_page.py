"""The Sequence uncertainty page under Streamlit's AppTest, on the real default models (small requests)."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from backend.schemas.text import DEFAULT_MAX_NEW_TOKENS
from backend.sequence.methods import METHODS
from tests.app.pages import open_page as open_app_page

pytestmark = pytest.mark.slow


def open_page() -> AppTest:
    """The app switched to the Sequence uncertainty page, run once."""
    return open_app_page("sequence_page.py")


def choose(at: AppTest, generation: list[str], samples: list[str], ask: list[str]) -> AppTest:
    at.pills(key="seq_methods_generation").set_value(generation)
    at.pills(key="seq_methods_samples").set_value(samples)
    at.pills(key="seq_methods_ask").set_value(ask)
    at.slider(key="seq_samples").set_value(2)
    at.number_input(key="seq_max_new_tokens").set_value(6)
    return at.run()


def submit(at: AppTest, prompt: str) -> AppTest:
    at.text_area(key="seq_prompt").set_value(prompt)
    next(b for b in at.button if b.label == "Run the selected methods").click()
    return at.run()


def test_page_offers_every_method_and_shows_the_cost_before_running():
    at = open_page()
    assert not at.exception and not at.error
    assert at.title[0].value == "Sequence uncertainty"
    groups = [at.pills(key=f"seq_methods_{g}") for g in ("generation", "samples", "ask")]
    assert sum(len(p.options) for p in groups) == len(METHODS.available())
    chosen = [name for p in groups for name in p.value]
    assert set(chosen) == {n for n in METHODS.available() if METHODS.get(n).on_by_default} and "inv_entropy" not in chosen
    assert any(c.value.startswith("Estimated total") for c in at.caption)
    steps = list(next(df.value for df in at.dataframe if "Step" in df.value.columns)["Step"])
    assert steps[0].startswith("The analysed answer") and any(s.startswith("K sampled answers") for s in steps)


def test_running_selected_methods_shows_scores_samples_and_graph():
    at = submit(choose(open_page(), ["perplexity"], ["semantic_entropy", "eigv"], []),
                "What is the capital of France?")
    assert not at.exception and not at.error
    table = [t.value for t in at.table if "Score" in t.value.columns][0]
    assert list(table["Score"]) == ["Perplexity", "Semantic entropy", "EigV"]
    assert any("2 answers sampled in one batched call" in c.value for c in at.caption)
    assert any("Meaning decided by the embedding model" in i.value for i in at.info)
    assert at.subheader[-1].value == "The analysed answer"


def test_kle_and_cocoa_show_the_kernel_and_the_answers_similarity_to_each_sample():
    at = submit(choose(open_page(), [], ["kle", "cocoa"], []), "What is the capital of France?")
    assert not at.exception and not at.error
    table = [t.value for t in at.table if "Score" in t.value.columns][0]
    assert list(table["Score"]) == ["Kernel language entropy", "CoCoA"]
    assert any(m.value.startswith("**Kernel language entropy** = ") for m in at.markdown)
    assert any("KLE = −tr(ρ ln ρ)" in c.value for c in at.caption)
    assert any(c.value.startswith("CoCoA = surprisal −ln p(answer)") for c in at.caption)


def test_max_new_tokens_defaults_to_the_text_pages_value():
    at = open_page()
    text = open_app_page("text_page.py")
    assert at.number_input(key="seq_max_new_tokens").value == text.number_input(key="text_max_new_tokens").value
    assert at.number_input(key="seq_max_new_tokens").value == DEFAULT_MAX_NEW_TOKENS


def test_method_and_score_tables_show_each_description_in_full():
    at = submit(choose(open_page(), ["perplexity"], [], []), "What is the capital of France?")
    assert not at.exception
    methods = next(t.value for t in at.table if "Method" in t.value.columns)
    scores = next(t.value for t in at.table if "Score" in t.value.columns)
    described = {row["Method"]: row["What it measures"] for _, row in methods.iterrows()}
    assert scores.iloc[0]["What it measures"] == described["Perplexity"] and len(described["Perplexity"]) > 60


def test_empty_prompt_and_no_method_say_what_to_do():
    at = submit(choose(open_page(), ["perplexity"], [], []), "   ")
    assert not at.exception
    assert "The prompt is empty" in at.error[0].value
    at = submit(choose(open_page(), [], [], []), "Hello")
    assert not at.exception
    assert "No method is selected" in at.error[0].value
