"""A dataset row's given response and labelled claims: read from JSONL (and a response from CSV), each bad row
refused with the line and what to change."""
from __future__ import annotations

import json

import pytest

from backend.audit.claim_labels import MAX_RESPONSE_CHARS, ClaimLabel
from backend.audit.datasets import parse_csv, parse_jsonl
from backend.errors import UserInputError

RESPONSE = "Paris is the capital of France. It has 90 million people."


def jsonl(*rows: dict) -> str:
    return "\n".join(json.dumps(row) for row in rows)


def test_a_row_with_a_response_and_labelled_claims_needs_no_accepted_answers():
    (item,) = parse_jsonl(jsonl({"question": "Tell me about Paris.", "response": f"  {RESPONSE} ",
                                 "claims": [{"text": "Paris is the capital of France.", "correct": True},
                                            {"text": "It has 90 million people.", "label": 0}]}))
    assert item.response == RESPONSE and item.answers == []
    assert item.claims == (ClaimLabel("Paris is the capital of France.", True),
                           ClaimLabel("It has 90 million people.", False))


@pytest.mark.parametrize("label, correct", [(True, True), (1, True), ("true", True), (False, False), (0, False),
                                            ("0", False)])
def test_claim_labels_read_as_booleans(label, correct):
    (item,) = parse_jsonl(jsonl({"question": "q", "response": RESPONSE,
                                 "claims": [{"text": "Paris", "correct": label}]}))
    assert item.claims[0].correct is correct


def test_a_response_without_claims_is_graded_against_the_answers():
    (item,) = parse_jsonl(jsonl({"question": "Capital of France?", "response": "Paris.", "answers": ["Paris"]}))
    assert (item.response, item.claims, item.answers) == ("Paris.", (), ["Paris"])


def test_a_csv_response_column_with_an_empty_cell_lets_the_model_answer():
    qa, _, _ = parse_csv("question,answer,response\nCapital of France?,Paris,Paris.\nCapital of Italy?,Rome,\n")
    assert [q.response for q in qa] == ["Paris.", None]


@pytest.mark.parametrize("row, message", [
    ({"question": "q", "claims": [{"text": "x", "correct": True}]}, "need the 'response'"),
    ({"question": "q", "response": RESPONSE, "claims": []}, "non-empty list"),
    ({"question": "q", "response": RESPONSE, "claims": "Paris"}, "non-empty list"),
    ({"question": "q", "response": RESPONSE, "claims": [{"text": "Paris"}]}, "must be true or false"),
    ({"question": "q", "response": RESPONSE, "claims": [{"text": "Paris", "correct": "maybe"}]},
     "must be true or false"),
    ({"question": "q", "response": RESPONSE, "claims": [{"correct": True}]}, "non-empty 'text'"),
    ({"question": "q", "response": RESPONSE, "claims": [{"text": "Rome", "correct": True}]}, "not found in the response"),
    ({"question": "q", "response": RESPONSE, "claims": [{"text": "It has", "correct": True},
                                                        {"text": "Paris", "correct": True}]}, "after the previous"),
    ({"question": "q", "response": "", "answers": ["x"]}, "non-empty string"),
    ({"question": "q", "response": 3, "answers": ["x"]}, "non-empty string"),
    ({"question": "q", "response": "x" * (MAX_RESPONSE_CHARS + 1), "answers": ["x"]}, "at most"),
    ({"question": "q", "response": RESPONSE}, "answers"),
])
def test_bad_rows_are_refused_with_their_line_and_what_to_change(row, message):
    with pytest.raises(UserInputError, match=message) as caught:
        parse_jsonl(jsonl({"question": "fine", "answers": ["a"]}, row))
    assert str(caught.value).startswith("item 2:")
