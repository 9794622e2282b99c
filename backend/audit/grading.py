"""Grading free-form answers against accepted aliases.

Rule, in order:
1. Normalised match: the answer is right when the normalised tokens of any alias appear, contiguously, among the
   normalised tokens of the answer. Normalisation (SQuAD-style, Rajpurkar et al. 2016, plus digit grouping):
   Unicode NFKD with accents removed, lower case, thousands separators in numbers dropped ("300,000" -> "300000"),
   punctuation and hyphens turned into spaces, the articles a / an / the removed, whitespace collapsed.
2. Embedding fallback: otherwise the answer is right when the cosine similarity between its sentence embedding and
   an alias's is at least the stated threshold (0.8 by default, all-MiniLM-L6-v2). It only runs when an embedder is
   given.
Every item keeps how it was graded and the best similarity, and a person can override the verdict.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np

ARTICLES = {"a", "an", "the"}
DIGIT_GROUP = re.compile(r"(?<=\d)[,\u202f\u00a0 ](?=\d{3}\b)")
NON_WORD = re.compile(r"[^\w\s]|_")

Embed = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class Verdict:
    """Whether an answer is right, how that was decided, and the best embedding similarity when one was computed."""

    correct: bool
    grading: str  # "alias", "embedding" or "no_match"
    similarity: Optional[float] = None


def normalize_tokens(text: str) -> list[str]:
    """The normalised tokens of a text (see the module docstring)."""
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch)).lower()
    folded = DIGIT_GROUP.sub("", folded)
    tokens = NON_WORD.sub(" ", folded).split()
    return [t for t in tokens if t not in ARTICLES]


def contains_tokens(haystack: Sequence[str], needle: Sequence[str]) -> bool:
    """True when needle occurs as a contiguous run in haystack (an empty needle never matches)."""
    size = len(needle)
    return size > 0 and any(list(haystack[i:i + size]) == list(needle) for i in range(len(haystack) - size + 1))


def alias_match(answer: str, aliases: Sequence[str]) -> bool:
    """Rule 1: some alias's normalised tokens appear contiguously in the answer's."""
    tokens = normalize_tokens(answer)
    return any(contains_tokens(tokens, normalize_tokens(alias)) for alias in aliases)


def cosine_to_aliases(answer_vector: np.ndarray, alias_vectors: np.ndarray) -> float:
    """Largest cosine similarity between one embedding (D,) and the aliases' (A, D)."""
    a = answer_vector / max(np.linalg.norm(answer_vector), 1e-12)
    b = alias_vectors / np.maximum(np.linalg.norm(alias_vectors, axis=1, keepdims=True), 1e-12)
    return float(np.max(b @ a))


def grade(answer: str, aliases: Sequence[str], embed: Optional[Embed] = None, threshold: float = 0.8) -> Verdict:
    """Grade one answer: alias match, else the embedding fallback when `embed` is given, else wrong."""
    if alias_match(answer, aliases):
        return Verdict(True, "alias")
    if embed is None or not answer.strip():
        return Verdict(False, "no_match")
    vectors = np.asarray(embed([answer, *aliases]), dtype=np.float64)
    similarity = cosine_to_aliases(vectors[0], vectors[1:])
    return Verdict(similarity >= threshold, "embedding" if similarity >= threshold else "no_match", similarity)
