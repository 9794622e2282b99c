"""ROUGE-L: hand values, and a brute-force longest common subsequence as the independent reference."""
from __future__ import annotations

import random
from itertools import combinations

import pytest

from backend.analyses.rouge import lcs_length, mean_pairwise_rouge_l, rouge_l_f1, rouge_tokens


def brute_force_lcs(first: list[str], second: list[str]) -> int:
    """Longest subsequence of first (tried longest first) that is also a subsequence of second."""
    def is_subsequence(candidate, sequence):
        remaining = iter(sequence)
        return all(any(word == other for other in remaining) for word in candidate)
    for size in range(len(first), 0, -1):
        if any(is_subsequence(c, second) for c in combinations(first, size)):
            return size
    return 0


def test_tokens_are_lower_case_alphanumeric_words():
    assert rouge_tokens("The Cat-sat, on 2 mats!") == ["the", "cat", "sat", "on", "2", "mats"]


def test_hand_value():
    # LCS of "the cat sat on the mat" / "the cat lay on the mat" is "the cat on the mat" (5 of 6 words each way),
    # so precision = recall = 5/6 and F1 = 5/6.
    assert rouge_l_f1("the cat sat on the mat", "the cat lay on the mat") == pytest.approx(5 / 6)


def test_unequal_lengths_hand_value():
    # "paris" (1 word) against "the capital is paris" (4 words): LCS 1, P = 1/4, R = 1, F1 = 2 * 0.25 / 1.25 = 0.4
    assert rouge_l_f1("Paris", "The capital is Paris.") == pytest.approx(0.4)


def test_identical_texts_score_one_and_disjoint_texts_zero():
    assert rouge_l_f1("Paris is nice", "paris IS nice!") == 1.0
    assert rouge_l_f1("alpha beta", "gamma delta") == 0.0


def test_empty_text_scores_zero():
    assert rouge_l_f1("", "Paris") == 0.0
    assert rouge_l_f1("...", "...") == 0.0


def test_lcs_matches_brute_force_on_random_word_lists():
    rng = random.Random(0)
    for _ in range(200):
        first = [rng.choice("abcd") for _ in range(rng.randint(0, 7))]
        second = [rng.choice("abcd") for _ in range(rng.randint(0, 7))]
        assert lcs_length(first, second) == brute_force_lcs(first, second)


def test_mean_pairwise_rouge_of_identical_and_unrelated_answers():
    assert mean_pairwise_rouge_l(["Paris."] * 4) == 1.0
    assert mean_pairwise_rouge_l(["alpha", "beta", "gamma", "delta"]) == 0.0
    # pairs: (a, a) = 1, (a, b) = 0, (a, b) = 0 -> mean 1/3
    assert mean_pairwise_rouge_l(["x", "x", "y"]) == pytest.approx(1 / 3)


def test_mean_pairwise_needs_two_answers():
    with pytest.raises(ValueError, match="at least 2"):
        mean_pairwise_rouge_l(["one"])
