from __future__ import annotations

import math

import pytest

from components.measures import MEASURES, colorbar_ticks, colour_position
from components.text_safety import escape_plotly, markdown_literal
from components.token_heatmap import (EMPTY_TOKEN, HOVER_LINE_PX, LINE_HEIGHT_PX, clicked_token, display_text,
                                     hover_text, layout_tokens, min_height_for_hover, token_heatmap_figure)
from backend.schemas import Alternative
from tests.components.factories import make_token, make_tokens


def test_layout_wraps_at_line_width_and_after_newlines():
    boxes = layout_tokens(["Hello", " world", "\n", "next", " line is long"], chars_per_line=12)
    assert [(b.line, b.column, b.width) for b in boxes] == [(0, 0, 5), (0, 5, 6), (0, 11, 1), (1, 0, 4),
                                                            (2, 0, 12)]
    assert boxes[2].label == "↵"


def test_layout_cuts_tokens_wider_than_a_line():
    (box,) = layout_tokens(["x" * 30], chars_per_line=10)
    assert box.width == 10 and box.label.endswith("…")


def test_display_text_makes_whitespace_visible_and_empty_pieces_a_dot():
    assert display_text("\t a\n") == "→ a↵"
    assert display_text("") == EMPTY_TOKEN
    assert display_text(" ") == " "


def test_escape_plotly_neutralises_tags():
    assert escape_plotly("<b>x</b> & <script>") == "&lt;b&gt;x&lt;/b&gt; &amp; &lt;script&gt;"


def test_markdown_literal_disarms_emphasis_links_code_and_tags():
    assert markdown_literal("*a* [b](c) `d` <e>") == r"\*a\* \[b\]\(c\) \`d\` \<e\>"


def test_figure_has_one_box_per_token_coloured_by_the_measure():
    tokens = make_tokens(["The", " cat", " sat"])
    figure = token_heatmap_figure(tokens, measure="entropy")
    (bar,) = figure.data
    assert list(bar.x) == [3, 4, 4] and list(bar.base) == [0, 3, 7]
    assert list(bar.marker.color) == pytest.approx([0.05, 0.25, 0.625])  # entropy / 4 nats: its range
    assert (bar.marker.cmin, bar.marker.cmax) == (0.0, 1.0)
    assert list(bar.marker.colorbar.ticktext) == ["0", "2", "4"] and bar.marker.colorbar.title.text == \
        "Entropy (nats)"
    assert list(bar.text) == ["The", " cat", " sat"]


@pytest.mark.parametrize("measure", list(MEASURES))
def test_every_measure_draws_red_for_its_uncertain_end(measure):
    spec = MEASURES[measure]
    uncertain = spec.cmax if spec.higher_is == "uncertain" else spec.cmin
    assert colour_position(spec, uncertain) == 1.0 and colour_position(spec, spec.cmin + spec.cmax - uncertain) == 0
    bar = token_heatmap_figure(make_tokens(["a"]), measure=measure).data[0]
    assert bar.marker.colorscale[-1][1] == "#d7301f"
    positions, labels = colorbar_ticks(spec)
    assert list(bar.marker.colorbar.tickvals) == positions and labels[positions.index(1.0)] == f"{uncertain:g}"


def test_colour_positions_clip_beyond_the_range():
    assert colour_position(MEASURES["entropy"], 9.0) == 1.0 and colour_position(MEASURES["rank"], 0.0) == 0.0
    assert colour_position(MEASURES["prob"], 0.25) == pytest.approx(0.75)


def test_surprisal_and_rank_values():
    token = make_token("x", 0.25, rank=4)
    assert MEASURES["surprisal"].value(token) == pytest.approx(math.log(4))
    assert MEASURES["rank"].value(token) == 4.0


def test_selected_token_is_outlined():
    figure = token_heatmap_figure(make_tokens(["a", "b", "c"]), selected=1)
    assert list(figure.data[0].marker.line.width) == [0.5, 3, 0.5]


def test_html_in_tokens_is_escaped_in_labels_and_hover():
    token = make_token("<img src=x onerror=alert(1)>", 0.5)
    figure = token_heatmap_figure([token])
    assert "<img" not in figure.data[0].text[0] and "&lt;img" in figure.data[0].text[0]
    assert "<img" not in hover_text(token) and "&lt;other&gt;" in hover_text(token)


def test_height_grows_with_the_number_of_lines():
    short = token_heatmap_figure(make_tokens(["word "] * 5), chars_per_line=40).layout.height
    long = token_heatmap_figure(make_tokens(["word "] * 200), chars_per_line=40).layout.height
    assert long > short * 5


def test_empty_sequence_gives_an_empty_figure():
    assert len(token_heatmap_figure([]).data[0].x) == 0


def test_legend_says_which_way_is_good():
    assert "high is good" in MEASURES["prob"].legend and "low is good" in MEASURES["entropy"].legend


def with_five_alternatives(tokens):
    """The tokens with five top alternatives each, as the Text page gives them (a 9-line hover box)."""
    return [t.model_copy(update={"top_k": [Alternative(text=f"alt{j}", id=j, prob=0.1) for j in range(5)]})
            for t in tokens]


def test_a_one_line_heatmap_is_tall_enough_for_its_hover_box():
    tokens = with_five_alternatives(make_tokens(["The", " capital", " is", " Paris", "."]))
    layout = token_heatmap_figure(tokens).layout
    lines = hover_text(tokens[0]).count("<br>") + 1
    assert lines == 9 and layout.height >= HOVER_LINE_PX * lines > 116
    assert layout.height == min_height_for_hover([hover_text(t) for t in tokens])
    assert layout.height - layout.margin.t - layout.margin.b == LINE_HEIGHT_PX  # the boxes keep their size


def test_a_character_split_over_byte_tokens_is_drawn_once_and_each_token_hovers_its_own_numbers():
    tokens = [make_token(text, prob, position=5 + i, token_id=50 + i)
              for i, (text, prob) in enumerate([("", 0.4), ("", 0.9), ("🎉", 0.99), (" yes", 0.8)])]
    bars, glyphs = token_heatmap_figure(tokens).data
    assert list(bars.text) == ["", "", "", " yes"] and list(glyphs.text) == ["🎉"]
    assert list(bars.x[:3]) == pytest.approx([2 / 3] * 3) and glyphs.x[0] == pytest.approx(1.0)
    assert glyphs.hoverinfo == "skip"
    assert "part 1 of 3 of the character '🎉' (tokens at positions 5-7" in bars.hovertext[0]
    assert "probability 0.4000" in bars.hovertext[0] and "probability 0.9000" in bars.hovertext[1]
    assert EMPTY_TOKEN not in "".join(bars.text)


def test_hebrew_tokens_are_placed_right_to_left():
    bars = token_heatmap_figure(make_tokens(["ש", "ל", "ו", "ם"]), chars_per_line=10).data[0]
    assert list(bars.base) == [9, 8, 7, 6]


def test_a_click_on_the_glyph_labels_selects_nothing():
    assert clicked_token({"selection": {"points": [{"curve_number": 1, "point_index": 0}]}}) is None
    assert clicked_token({"selection": {"points": [{"curve_number": 0, "point_index": 3}]}}) == 3
    assert clicked_token(None) is None
