"""Claim splitting on constructed texts: sentences, abbreviations, decimals, clauses of long sentences, exact spans,
a user's split and the token-span mapping."""
import pytest

from backend.claims.split import (ClaimSpan, given_claims, sentence_spans, split_claims, token_offsets,
                                  with_token_spans)
from backend.errors import UserInputError


def texts(answer):
    return [c.text for c in split_claims(answer)]


def test_sentences_with_exact_spans():
    answer = "  Paris is the capital. It has 2.1 million people!  Is it big? "
    claims = split_claims(answer)
    assert [c.text for c in claims] == ["Paris is the capital.", "It has 2.1 million people!", "Is it big?"]
    assert [(c.start, c.end) for c in claims] == [(2, 23), (24, 50), (52, 62)]
    assert all(answer[c.start:c.end] == c.text for c in claims)


def test_abbreviations_and_decimals_do_not_end_a_sentence():
    assert texts("Some fruit, e.g. apples, cost 3.5 euros. Dr. Smith agrees.") == [
        "Some fruit, e.g. apples, cost 3.5 euros.", "Dr. Smith agrees."]
    assert texts("J. S. Bach wrote it. Then he left") == ["J. S. Bach wrote it.", "Then he left"]


def test_line_breaks_end_a_claim():
    assert texts("First point\nSecond point\n\nThird") == ["First point", "Second point", "Third"]


def test_long_sentence_splits_at_clause_boundaries():
    long = ("The Eiffel Tower was built for the 1889 World's Fair in Paris; it was designed by the engineering "
            "company of Gustave Eiffel, and it was the tallest structure in the world for about forty years.")
    assert len(long.split()) > 25
    assert texts(long) == [
        "The Eiffel Tower was built for the 1889 World's Fair in Paris;",
        "it was designed by the engineering company of Gustave Eiffel,",
        "and it was the tallest structure in the world for about forty years."]
    short = "It was designed by Gustave Eiffel, and it is tall."
    assert texts(short) == [short]


def test_given_claims_found_in_order_and_refused_when_absent():
    answer = "Paris is the capital. It is large."
    assert given_claims(answer, [" It is large. "]) == [ClaimSpan("It is large.", 22, 34)]
    with pytest.raises(UserInputError, match="claim 2 .*'Lyon'.* not found in the answer"):
        given_claims(answer, ["Paris is the capital.", "Lyon"])
    with pytest.raises(UserInputError, match="after the previous claim"):
        given_claims(answer, ["It is large.", "Paris"])
    with pytest.raises(UserInputError, match="empty"):
        given_claims(answer, ["  "])


def test_token_spans_follow_the_token_texts():
    answer = "Paris is big. It is old."
    pieces = ["Paris", " is", " big", ".", " It", " is", " old", ".", "<|im_end|>"]
    special = [False] * 8 + [True]
    offsets = token_offsets(answer, pieces, special)
    assert offsets[:4] == [(0, 5), (5, 8), (8, 12), (12, 13)] and offsets[8] == (24, 24)
    claims = with_token_spans(split_claims(answer), offsets)
    assert [(c.token_start, c.token_end) for c in claims] == [(0, 4), (4, 8)]


def test_a_token_straddling_two_claims_belongs_to_the_first():
    answer = "Yes.No way."
    offsets = token_offsets(answer, ["Yes", ".No", " way", "."], [False] * 4)
    claims = with_token_spans(given_claims(answer, ["Yes.", "No way."]), offsets)
    assert [(c.token_start, c.token_end) for c in claims] == [(0, 2), (2, 4)]


def test_claims_given_as_character_spans():
    from backend.claims.split import claims_at
    answer = "Paris is the capital. It is large."
    assert claims_at(answer, [(0, 21), (22, 34)]) == [ClaimSpan("Paris is the capital.", 0, 21),
                                                       ClaimSpan("It is large.", 22, 34)]
    for bad in ([(5, 5)], [(0, 40)], [(10, 20), (15, 25)]):
        with pytest.raises(UserInputError, match="is not a piece of the answer"):
            claims_at(answer, bad)
