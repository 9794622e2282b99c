"""ROUGE-L between answers (Lin, "ROUGE: A Package for Automatic Evaluation of Summaries", 2004).

Tokenisation follows the rouge-score package's default: lower-case, every run of characters other than a-z and
0-9 is a separator (no stemming; lm-polygraph enables the Porter stemmer, so words such as "cats"/"cat" differ
here but match there).
"""
from __future__ import annotations

import re
from itertools import combinations
from typing import Sequence

NON_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")


def rouge_tokens(text: str) -> list[str]:
    """Lower-cased alphanumeric words of text."""
    return NON_ALPHANUMERIC.sub(" ", text.lower()).split()


def lcs_length(first: Sequence[str], second: Sequence[str]) -> int:
    """Length of the longest common subsequence, by dynamic programming in O(len(first) * len(second))."""
    previous = [0] * (len(second) + 1)
    for a in first:
        current = [0]
        for j, b in enumerate(second):
            current.append(previous[j] + 1 if a == b else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def rouge_l_f1(first: str, second: str) -> float:
    """ROUGE-L F1 = 2 P R / (P + R), P = LCS / |second|, R = LCS / |first|; 0 when either has no words."""
    a, b = rouge_tokens(first), rouge_tokens(second)
    if not a or not b:
        return 0.0
    lcs = lcs_length(a, b)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(b), lcs / len(a)
    return 2 * precision * recall / (precision + recall)


def mean_pairwise_rouge_l(texts: Sequence[str]) -> float:
    """Mean ROUGE-L F1 over the K(K-1)/2 unordered pairs of texts (K >= 2). In [0, 1]."""
    if len(texts) < 2:
        raise ValueError("lexical similarity needs at least 2 answers")
    pairs = list(combinations(texts, 2))
    return sum(rouge_l_f1(a, b) for a, b in pairs) / len(pairs)
