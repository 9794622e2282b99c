"""Two tokenizations of one answer lined up by characters: hand-made tokens, hand-computed sums."""
from __future__ import annotations

import math

import pytest

from backend.compare.alignment import (alignment_kind, character_spans, other_logprobs, owner_of, text_logprob,
                                       token_differences)
from tests.components.factories import make_token


def tokens(*pairs, special=()):
    """TokenScores from (text, prob) pairs; indices in `special` are special tokens."""
    made = [make_token(text, prob, position=i) for i, (text, prob) in enumerate(pairs)]
    return [t.model_copy(update={"special": i in special}) for i, t in enumerate(made)]


def test_spans_lay_the_texts_end_to_end_and_special_tokens_take_no_room():
    own = tokens(("The", 0.5), (" cat", 0.5), ("<|im_end|>", 0.9), special=(2,))
    assert character_spans(own) == [(0, 3), (3, 7), (7, 7)]


def test_a_zero_width_span_never_owns_a_character():
    starts, ends = [0, 3, 3], [3, 3, 6]  # spans (0, 3), (3, 3) a special token, (3, 6)
    assert [owner_of(starts, ends, char) for char in (0, 2, 3, 5)] == [0, 0, 2, 2]
    assert owner_of([0, 3], [3, 3], 3) == 0  # past a trailing special token: the last token with text
    assert owner_of([2], [4], 0) is None


def test_the_same_tokens_compare_one_to_one():
    own = tokens(("Par", 0.5), ("is", 0.8))
    other = tokens(("Par", 0.25), ("is", 0.4))
    assert alignment_kind(own, other) == "tokens"
    rows = token_differences(own, other)
    assert [r.other_logprob for r in rows] == pytest.approx([math.log(0.25), math.log(0.4)])
    assert [r.difference for r in rows] == pytest.approx([math.log(2), math.log(2)])
    assert [r.other_tokens for r in rows] == [1, 1]


def test_a_word_split_differently_sums_the_other_models_pieces():
    own = tokens(("Paris", 0.6), (" is", 0.9))           # one model keeps the word whole
    other = tokens(("Par", 0.5), ("is", 0.5), (" is", 0.8))  # the other splits it in two
    assert alignment_kind(own, other) == "characters"
    sums, counts = other_logprobs(own, other)
    assert sums == pytest.approx([math.log(0.25), math.log(0.8)]) and counts == [2, 1]
    back = token_differences(other, own)  # the other way round, "Paris" starts inside "Par"
    assert [r.other_logprob for r in back] == [pytest.approx(math.log(0.6)), None, pytest.approx(math.log(0.9))]
    assert back[1].difference is None and back[1].other_tokens == 0


def test_special_tokens_have_no_counterpart_and_stay_out_of_the_text_logprob():
    own = tokens(("Yes", 0.5), ("<|im_end|>", 0.9), special=(1,))
    other = tokens(("Yes", 0.1))
    rows = token_differences(own, other)
    assert rows[0].difference == pytest.approx(math.log(5)) and rows[1].other_logprob is None
    assert text_logprob(own) == pytest.approx(math.log(0.5))


def test_nothing_scored_by_the_other_side():
    own = tokens(("Yes", 0.5))
    assert alignment_kind(own, None) == "none"
    assert token_differences(own, None)[0].other_logprob is None
