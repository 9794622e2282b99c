from __future__ import annotations

from backend.schemas import Score, TextAnalysis
from components.save_form import analysis_digest, field_key, parse_tags
from components.saved_compare import summaries_table


def analysis_with(values: dict[str, float]) -> TextAnalysis:
    scores = [Score(name=name, label=name.title(), value=value, higher_is="uncertain", value_range="[0, inf)",
                    description="") for name, value in values.items()]
    return TextAnalysis(model="m", prompt="p", model_input="p", chat_template=False, mode="generate",
                        generated_text="", stop_reason="eos", temperature=1.0, do_sample=False, top_p=1.0, seed=0,
                        max_new_tokens=1, device="cpu", ids=[1], answer_start=1, tokens=[], prompt_tokens=[],
                        summaries=scores, seconds=0.0)


def test_summaries_table_puts_each_analysis_in_its_own_column():
    rows = summaries_table(["A", "B"], [analysis_with({"perplexity": 1.23456, "mean_entropy": 0.5}),
                                        analysis_with({"perplexity": 7.0})])
    assert rows == [{"summary": "Perplexity", "higher is": "uncertain", "A": 1.2346, "B": 7.0},
                    {"summary": "Mean_Entropy", "higher is": "uncertain", "A": 0.5, "B": None}]


def test_duplicate_titles_keep_both_columns():
    rows = summaries_table(["Same", "Same"], [analysis_with({"x": 1.0}), analysis_with({"x": 2.0})])
    assert rows[0]["Same"] == 1.0 and rows[0]["Same (2)"] == 2.0


def test_parse_tags_splits_on_commas_and_newlines():
    assert parse_tags(" geo, demo\nclass 7 ,, ") == ["geo", "demo", "class 7"]
    assert parse_tags("") == []


def test_each_analysis_gets_its_own_form_fields():
    first, second = '{"prompt": "Australia?"}', '{"prompt": "A haiku"}'
    assert field_key("text", first, "title") == field_key("text", first, "title")
    assert field_key("text", first, "title") != field_key("text", second, "title")
    assert field_key("text", first, "title").startswith("text_save_")
    assert analysis_digest(first) == analysis_digest(first) and len(analysis_digest(first)) == 16
