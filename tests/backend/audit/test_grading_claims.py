"""Grading by the answer's claim: the accepted answer must be what the answer asserts, not a mention anywhere."""
from __future__ import annotations

import numpy as np
import pytest

from backend.audit.grading import grade, split_sentences

ORWELL = ["George Orwell", "Orwell", "Eric Arthur Blair"]
CANBERRA = ["Canberra"]
AUSTRALIA = "What is the capital of Australia?"


@pytest.mark.parametrize("answer, aliases, question, correct, why", [
    ("The novel 1984 was written by George Orwell. It was published in 1949 and was written by A.A. Ramsey.",
     ORWELL, "Who wrote the novel 1984?", False, 'contradicted by "by ramsey'),
    ("The novel 1984 by George Orwell is a dystopian novel written by A.A. Ramsey in", ORWELL,
     "Who wrote the novel 1984?", False, 'contradicted by "by ramsey'),  # the default model's answer
    ("Canberra", CANBERRA, AUSTRALIA, True, 'names "canberra"'),
    ("The capital of Australia is Canberra, also known as the Bush Capital.", CANBERRA, AUSTRALIA, True,
     "sentence 1"),
    ("The capital of Australia is Sydney.", CANBERRA, AUSTRALIA, False, "no accepted answer"),
    ("The capital of Australia is Sydney. Canberra is another big city.", CANBERRA, AUSTRALIA, False,
     "first sentence that answers"),
    ("It is either Sydney or Canberra.", CANBERRA, AUSTRALIA, False, "alternative"),
    ("I think it might be Canberra, but I am not sure.", CANBERRA, AUSTRALIA, True, "sentence 1"),
    ("Sure! The capital of Australia is Canberra.", CANBERRA, AUSTRALIA, True, "sentence 2"),
    ("What is the capital of Australia? The capital is Canberra.", CANBERRA, AUSTRALIA, True, "sentence 2"),
    ("The capital of Australia is not Canberra.", CANBERRA, AUSTRALIA, False, "negated"),
    ("It isn't Canberra.", CANBERRA, AUSTRALIA, False, "negated"),
    ("The capital of France is Paris. Paris is known for the Eiffel Tower.", ["Paris"],
     "What is the capital of France?", True, "sentence 1"),
    ("The cell's nucleus holds the cell's genetic material.", ["nucleus"], "", True, "sentence 1"),  # no frame
    ("A right angle is a 90-degree angle. The right angle is the angle opposite", ["90"],
     "How many degrees are in a right angle?", True, "sentence 1"),  # the question's word names no other entity
    ("The capital of France is Paris. The capital of France is Lyon.", ["Paris"], "", False, "contradicted"),
])
def test_the_claim_decides(answer, aliases, question, correct, why):
    verdict = grade(answer, aliases, question=question)
    assert verdict.correct is correct and why in verdict.reason
    assert verdict.grading == ("alias" if correct else "no_match")


def test_initials_and_abbreviations_do_not_end_a_sentence():
    assert split_sentences("Written by A.A. Ramsey. Dr. Who is not it!\nNext line") == [
        "Written by A.A. Ramsey.", "Dr. Who is not it!", "Next line"]
    assert split_sentences("Pi is 3.14 exactly. Yes") == ["Pi is 3.14 exactly.", "Yes"]


def test_the_embedding_fallback_reads_the_first_sentence_and_says_why():
    vectors = {"Big Apple.": [1.0, 0.0], "New York City": [0.9, np.sqrt(1 - 0.81)]}

    def embed(texts):
        return np.array([vectors[t] for t in texts])

    verdict = grade("Big Apple. Lyon is in France.", ["New York City"], embed, threshold=0.8)
    assert (verdict.correct, verdict.grading) == (True, "embedding")
    assert verdict.similarity == pytest.approx(0.9) and "0.90 ≥ 0.8" in verdict.reason
    assert grade("", ["Paris"]).reason == "empty answer"
