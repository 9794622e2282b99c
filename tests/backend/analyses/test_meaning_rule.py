"""The default embedding meaning rule (claim_affinity): hand-made pairs, and the real all-MiniLM-L6-v2 on the
Canberra answers of issue 13 (same answer with words added vs. a different city)."""
from __future__ import annotations

import numpy as np
import pytest

from backend.analyses.meaning_graph import (check_affinity, claim_affinity, greedy_meaning_clusters,
                                            only_adds_words, strip_question_words)
from backend.schemas import DEFAULT_EMBEDDING_MODEL, DEFAULT_SIMILARITY_THRESHOLD
from backend.sequence.evidence import meaning_by_embedding

AUSTRALIA = "What is the capital of Australia?"
CANBERRA = "The capital of Australia is Canberra."
CANBERRA_MORE = "The capital of Australia is Canberra, also known as the Bush Capital."
SYDNEY = "The capital of Australia is Sydney."


@pytest.mark.parametrize("answer, question, stripped", [
    (CANBERRA, AUSTRALIA, "Canberra"),
    ("Canberra", AUSTRALIA, "Canberra"),
    ("The capital of Australia.", AUSTRALIA, "The capital of Australia."),  # nothing beyond the question: kept
    ("It's Canberra", "", "It's Canberra"),
])
def test_strip_question_words(answer, question, stripped):
    assert strip_question_words(answer, question) == stripped


@pytest.mark.parametrize("a, b, expected", [
    ("Canberra", "Canberra also known as the Bush Capital", True),
    ("Canberra", "I think Canberra", True),
    ("Canberra.", "canberra", True),
    ("Canberra", "Sydney", False),
    ("Canberra", "not Canberra", False),
    ("Canberra, Australia", "Canberra, ACT, Australia", True),  # words added in the middle
    ("Canberra", "Canberra or Sydney", False),
    ("Paris France", "Lyon France", False),
])
def test_only_adds_words(a, b, expected):
    assert only_adds_words(a, b) is expected and only_adds_words(b, a) is expected


def test_claim_affinity_is_one_for_added_words_and_the_cosine_otherwise():
    stripped = ["Canberra", "Canberra also known as the Bush Capital", "Sydney"]
    vectors = np.array([[1.0, 0.0], [0.6, 0.8], [0.5, -0.9]])
    affinity = check_affinity(claim_affinity(stripped, vectors))
    assert affinity[0, 1] == 1.0 and affinity[1, 0] == 1.0
    assert affinity[0, 2] == pytest.approx(0.5 / np.hypot(0.5, 0.9))
    assert affinity[1, 2] == 0.0  # negative cosine as 0
    assert np.all(np.diag(affinity) == 1.0)


@pytest.fixture(scope="module")
def embedder(engine):
    return engine.embedding_model(DEFAULT_EMBEDDING_MODEL)


def test_three_right_answers_are_one_meaning_and_sydney_another(embedder):
    texts = [CANBERRA, CANBERRA_MORE, "Canberra.", SYDNEY]
    same, affinity = meaning_by_embedding(embedder, texts, AUSTRALIA, DEFAULT_SIMILARITY_THRESHOLD)
    assert greedy_meaning_clusters(same) == [[0, 1, 2], [3]]
    assert affinity[0, 3] < DEFAULT_SIMILARITY_THRESHOLD


def test_the_whole_sentence_cosine_put_sydney_with_canberra(embedder):
    vectors = embedder.embed([CANBERRA, SYDNEY])
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    assert unit[0] @ unit[1] >= 0.85  # the old rule (whole answers, cosine >= 0.85) called them one meaning
