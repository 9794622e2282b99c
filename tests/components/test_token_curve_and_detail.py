from __future__ import annotations

import pytest

from components.summary_cards import format_value, score_help
from components.token_curve import MAX_TICK_LABELS, token_curve_figure
from components.text_analysis_view import analysis_caption
from components.token_detail import bar_rows, origin_note
from backend.schemas import Score, TextAnalysis
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


def test_alternatives_come_in_rank_order_with_the_chosen_token_marked():
    token = make_token("yes", 0.7)
    assert bar_rows(token) == [("1. 'yes'", 0.7, True), ("2. '<other>'", pytest.approx(0.3), False)]


def test_a_sampled_token_outside_the_top_k_is_added_with_its_rank():
    token = make_token("rare", 0.01, rank=14).model_copy(update={"id": 999})
    assert bar_rows(token)[-1] == ("14. 'rare'", 0.01, True)
    assert not any(chosen for _, _, chosen in bar_rows(token)[:-1])


def test_summary_value_format_and_help():
    score = Score(name="perplexity", label="Perplexity", value=12345.678, higher_is="uncertain",
                  value_range="[1, inf)", description="exp of the mean surprisal.")
    assert format_value(score) == "1.23e+04"
    assert "higher = more uncertain" in score_help(score) and "[1, inf)" in score_help(score)


def analysis(mode: str, *, do_sample: bool) -> TextAnalysis:
    """A small TextAnalysis made one way or the other (mode "score" or "generate")."""
    return TextAnalysis(model="m", prompt="p", model_input="p", chat_template=True, mode=mode, generated_text="a",
                        stop_reason="scored" if mode == "score" else "eos", temperature=1.0, do_sample=do_sample,
                        top_p=0.9, seed=3, max_new_tokens=8, device="cpu", ids=[1, 2], answer_start=1,
                        tokens=make_tokens(["a"]), prompt_tokens=[], summaries=[], seconds=0.25)


@pytest.mark.parametrize("do_sample", [False, True])
def test_a_scored_answer_is_captioned_given_whatever_the_decoding_setting(do_sample):
    caption = analysis_caption(analysis("score", do_sample=do_sample))
    assert "1 tokens scored · given answer, not decoded" in caption
    assert "greedy" not in caption and "sampled" not in caption


def test_a_generated_answer_names_its_decoding():
    assert "generated (eos) · greedy" in analysis_caption(analysis("generate", do_sample=False))
    assert "sampled, top-p 0.9, seed 3" in analysis_caption(analysis("generate", do_sample=True))


def test_a_given_token_is_described_as_given_not_sampled():
    token = make_token("blue", 0.3, rank=2)
    note = origin_note(token, mode="score", do_sample=True)
    assert note.startswith("Given in the answer you supplied") and "rank 2" in note and "sampled" not in note
    assert "sampled from the distribution" in origin_note(token, mode="generate", do_sample=True)
    assert "greedy decoding picked it" in origin_note(token, mode="generate", do_sample=False)


def test_a_first_choice_needs_no_note_and_a_byte_piece_says_what_it_is():
    assert origin_note(make_token("a", 0.9), mode="generate", do_sample=False) == ""
    assert "byte piece of a character" in origin_note(make_token("", 0.9), mode="generate", do_sample=False)
