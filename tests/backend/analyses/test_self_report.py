"""Reading a stated confidence, and P(True) normalised over True and False."""
from __future__ import annotations

import pytest

from backend.analyses.self_report import p_true_normalized, p_true_prompt, parse_confidence, verbalized_prompt


@pytest.mark.parametrize("reply, expected", [
    ("85", 0.85), ("85%", 0.85), ("I am 90 % sure.", 0.9), ("Confidence: 100", 1.0), ("0", 0.0),
    ("0.7", 0.7), ("72.5", 0.725), ("1", 0.01), ("50/100", 0.5),
])
def test_numbers_are_read(reply, expected):
    assert parse_confidence(reply).value == pytest.approx(expected)


@pytest.mark.parametrize("reply, reason", [
    ("Very confident!", "no number"), ("", "no number"), ("150", "above 100"),
])
def test_failures_say_why(reply, reason):
    parsed = parse_confidence(reply)
    assert parsed.value is None
    assert reason in parsed.reading


def test_reading_says_how_the_number_was_read():
    assert "percentage" in parse_confidence("80").reading
    assert "probability" in parse_confidence("0.8").reading


def test_p_true_normalised_over_the_two_words():
    assert p_true_normalized(0.3, 0.1) == pytest.approx(0.75)
    assert p_true_normalized(0.0, 0.0) is None


def test_prompts_carry_question_and_answer():
    for prompt in (verbalized_prompt("Q?", "A."), p_true_prompt("Q?", "A.")):
        assert "Question: Q?" in prompt and "Proposed answer: A." in prompt
