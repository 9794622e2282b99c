"""Sub-word tokens grouped into words, on hand-made token lists."""
from __future__ import annotations

import pytest

from backend.analyses.words import word_ids, word_spans, word_texts

TEXTS = ["<s>", "What", " is", " Sm", "ol", "LM", "?", "\n", "Hi", "", "é"]
SPECIAL = [True] + [False] * 10


def test_words_start_at_spaces_specials_and_after_whitespace():
    #            <s> What  is  Sm ol LM ?  \n Hi "" é
    assert word_ids(TEXTS, SPECIAL) == [0, 1, 2, 3, 3, 3, 3, 4, 5, 5, 5]


def test_forced_breaks_start_a_word():
    assert word_ids(TEXTS, SPECIAL, breaks=[4]) == [0, 1, 2, 3, 4, 4, 4, 5, 6, 6, 6]


def test_word_texts_and_spans():
    word_of = word_ids(TEXTS, SPECIAL)
    assert word_texts(TEXTS, word_of) == ["<s>", "What", " is", " SmolLM?", "\n", "Hié"]
    assert word_spans(word_of) == [(0, 1), (1, 2), (2, 3), (3, 7), (7, 8), (8, 11)]


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="special flags"):
        word_ids(["a", "b"], [False])
