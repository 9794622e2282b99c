"""Inv-Entropy's inverse-model heatmap on hand-made details: one row per answer labelled by its prompt, one column
per prompt, the values as given and the hover text escaped."""
from __future__ import annotations

from components.inverse_model_view import inverse_model_figure, prompt_names


def test_prompt_names_start_with_the_question():
    assert prompt_names(3) == ["Q", "P1", "P2"]


def test_inverse_model_figure_rows_are_answers_and_columns_prompts():
    figure = inverse_model_figure([[1.0, 0.0], [0.5, 0.5], [0.25, 0.75]], ["a", "b", "<b>c</b>"], [0, 0, 1])
    heatmap = figure.data[0]
    assert list(heatmap.x) == ["Q", "P1"] and list(heatmap.y) == ["Q · 1", "Q · 2", "P1 · 3"]
    assert [list(row) for row in heatmap.text] == [["1.000", "0.000"], ["0.500", "0.500"], ["0.250", "0.750"]]
    assert "(its own prompt)" in heatmap.customdata[2][1] and "(its own prompt)" not in heatmap.customdata[2][0]
    assert "&lt;b&gt;c&lt;/b&gt;" in heatmap.customdata[2][0] and "<b>c" not in heatmap.customdata[2][0]
