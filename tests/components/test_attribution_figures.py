"""Attention and saliency figure builders, tested on the figure objects."""
from __future__ import annotations

import math

import pytest

from components.attention_matrix import (attention_matrix_figure, axis_labels, causal_values, colour_ceiling,
                                         grid_values, head_grid_figure)
from components.saliency_matrix import saliency_grid, saliency_matrix_figure, unscored_note
from components.token_units import hidden_share, token_units, unit_values
from components.token_weights import WeightedText, colour_limit, over_shown, scale_caption, token_weights_figure
from tests.components.attribution_factories import make_grid, make_matrix, make_saliency, make_tokens


def test_token_units_group_words_and_hide_the_template():
    tokens = make_tokens()
    assert [u.label for u in token_units(tokens, show_template=False)] == ["Hi", " the", "re", "?", "Hello",
                                                                            " world"]
    words = token_units(tokens, granularity="word", show_template=False)
    assert [(u.label, u.members) for u in words][:3] == [("Hi", (3,)), (" there?", (4, 5, 6)), ("Hello", (8,))]
    with pytest.raises(ValueError, match="granularity"):
        token_units(tokens, granularity="paragraph")


def test_unit_values_sum_a_words_tokens_and_leave_later_units_empty():
    words = token_units(make_tokens(), granularity="word")
    row = [0.1 * (i + 1) for i in range(8)]          # a row over positions 0..7 (the token at position 8)
    values = unit_values(row, words)
    assert values[4] == pytest.approx(0.5 + 0.6 + 0.7)
    assert values[-2:] == [None, None]
    assert hidden_share(row, token_units(make_tokens(), show_template=False)) == pytest.approx(
        (0.1 + 0.2 + 0.3 + 0.8) / sum(row))


def test_signed_weights_get_a_symmetric_diverging_scale_and_readable_text():
    data = WeightedText(labels=["a", "<b>", "c"], weights=[-0.2, 0.8, None], positions=[0, 1, 2], signed=True,
                        value_label="score", highlight=1, breaks=[2])
    figure = token_weights_figure(data)
    bars = figure.data[0]
    assert (bars.marker.cmin, bars.marker.cmax) == (-0.8, 0.8)
    assert bars.marker.line.width == (0.5, 3, 0.5)
    assert bars.text[1] == "&lt;b&gt;"                       # labels are escaped, never markup
    assert bars.textfont.color[1] == "#ffffff" and bars.textfont.color[0] != "#ffffff"
    assert list(figure.data[1].y) == [1]                     # the unit without a weight, grey, on its own line
    assert "±0.8" in scale_caption(data)


def test_unsigned_weights_start_at_zero():
    data = WeightedText(labels=["a", "b"], weights=[0.0, 0.0], positions=[0, 1], signed=False, value_label="w")
    figure = token_weights_figure(data)
    assert (figure.data[0].marker.cmin, figure.data[0].marker.cmax) == (0.0, 1.0)
    assert colour_limit([None, -3.0, 2.0]) == 3.0


def test_attention_matrix_blanks_the_future_and_leaves_the_sink_out_of_the_scale():
    figure = attention_matrix_figure(make_matrix(), title="layer 1, <head> 2")
    heatmap = figure.data[0]
    assert heatmap.zmax == pytest.approx(0.3)
    assert heatmap.z[0][1] is None and heatmap.z[2][1] == 0.3
    assert list(heatmap.x) == ["0·&lt;s&gt;", "1·a", "2·a"]  # repeated texts stay distinct columns
    assert "&lt;head&gt;" in figure.layout.title.text
    assert colour_ceiling(make_matrix(5).values, 5) == 1.0
    assert causal_values([[1, 2], [3, 4]]) == [[1, None], [3, 4]]
    assert axis_labels(["x" * 30], [7])[0].endswith("…")


def test_head_grid_tiles_every_head_scaled_to_its_own_maximum():
    grid = make_grid()
    values = grid_values(grid)
    assert len(values) == 3 * 3 and len(values[0]) == 2 * 3
    assert values[0][:2] == [0.5, 1.0] and values[0][2] is None
    assert values[6][3:5] == [0.5, 1.0]
    figure = head_grid_figure(grid, selected=(2, 1))
    clicks = figure.data[1]
    assert len(clicks.customdata) == 6 and list(clicks.customdata[5]) == [2, 1]
    assert clicks.text[5] == "layer 3, head 2"
    assert len(figure.layout.shapes) == 1
    assert list(figure.layout.yaxis.ticktext) == ["1", "2", "3"]


def test_saliency_matrix_rows_columns_and_scale():
    result = make_saliency()
    rows, columns, values = saliency_grid(result, granularity="token", show_template=False)
    assert rows == ["8·Hello", "9· world"]
    assert columns == ["3·Hi", "4· the", "5·re", "6·?", "8·Hello"]
    assert values[0][:4] == pytest.approx([0.4, -0.5, 0.6, -0.7]) and values[0][4] is None
    assert values[1][-1] == pytest.approx(-0.9)
    figure = saliency_matrix_figure(result, selected_position=9)
    assert figure.data[0].zmin == -figure.data[0].zmax
    assert figure.layout.shapes[0].y0 == 0.5
    words = saliency_grid(result, granularity="word", show_template=True)[2]
    assert words[0][4] == pytest.approx(-0.5 + 0.6 - 0.7)


def test_prompt_only_occlusion_leaves_the_answer_columns_blank_and_says_why():
    full = make_saliency()
    assert unscored_note(full) == ""
    start = full.answer_start
    prompt_only = full.model_copy(update={"rows": [r.model_copy(update={"scores": r.scores[:start]})
                                                   for r in full.rows]})
    values = saliency_grid(prompt_only, granularity="token", show_template=False)[2]
    assert values[1][:4] == pytest.approx(saliency_grid(full, granularity="token", show_template=False)[2][1][:4])
    assert values[1][4] is None
    assert "prompt's tokens only" in unscored_note(prompt_only)


def test_unsigned_saliency_matrix_starts_at_zero():
    figure = saliency_matrix_figure(make_saliency(signed=False))
    assert figure.data[0].zmin == 0.0 and not math.isnan(figure.data[0].zmax)


def test_a_row_is_renormalised_over_the_shown_units():
    # a rollout row with 96 % on hidden template positions: the shown units' 4 % become shares summing to 1
    assert over_shown([0.01, None, 0.03]) == pytest.approx([0.25, None, 0.75])
    assert over_shown([0.0, None]) == [0.0, None]
