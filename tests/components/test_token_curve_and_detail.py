from __future__ import annotations

import pytest

from components.summary_cards import format_value, score_help
from components.token_curve import MAX_TICK_LABELS, token_curve_figure
from components.token_detail import CHOSEN_COLOUR, alternatives_figure, bar_rows
from backend.schemas import Score
from tests.components.factories import make_token, make_tokens


def test_curve_plots_entropy_and_probability_by_step():
    tokens = make_tokens(["a", "b", "c"])
    entropy, probability = token_curve_figure(tokens).data
    assert list(entropy.x) == [0, 1, 2] and list(entropy.y) == [0.2, 1.0, 2.5]
    assert list(probability.y) == [0.9, 0.5, 0.1] and probability.yaxis == "y2"


def test_curve_labels_short_answers_with_their_tokens_only():
    short = token_curve_figure(make_tokens(["<b>", "x"])).layout.xaxis
    assert list(short.ticktext) == ["'&lt;b&gt;'", "'x'"]
    long = token_curve_figure(make_tokens(["x"] * (MAX_TICK_LABELS + 1))).layout.xaxis
    assert long.ticktext is None


def test_curve_marks_the_selected_step():
    assert token_curve_figure(make_tokens(["a", "b"]), selected=1).layout.shapes[0].x0 == 1


def test_alternatives_put_the_most_likely_on_top_and_colour_the_chosen_token():
    token = make_token("yes", 0.7)
    (bar,) = alternatives_figure(token).data
    assert list(bar.x) == pytest.approx([0.3, 0.7])  # reversed: plotly draws the last bar on top
    assert list(bar.y) == ["2. '&lt;other&gt;' ", "1. 'yes' "]
    assert bar.marker.color[-1] == CHOSEN_COLOUR and bar.marker.color[0] != CHOSEN_COLOUR


def test_a_sampled_token_outside_the_top_k_is_added_with_its_rank():
    token = make_token("rare", 0.01, rank=14).model_copy(update={"id": 999})
    assert bar_rows(token)[-1] == ("14. 'rare'", 0.01, True)
    assert not any(chosen for _, _, chosen in bar_rows(token)[:-1])


def test_summary_value_format_and_help():
    score = Score(name="perplexity", label="Perplexity", value=12345.678, higher_is="uncertain",
                  value_range="[1, inf)", description="exp of the mean surprisal.")
    assert format_value(score) == "1.23e+04"
    assert "higher = more uncertain" in score_help(score) and "[1, inf)" in score_help(score)
