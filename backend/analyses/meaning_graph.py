"""Meaning clusters and the graph scores of Lin, Trivedi & Sun, "Generating with Confidence: Uncertainty
Quantification for Black-box Large Language Models" (TMLR 2024).

The K sampled answers are nodes; W (K x K, symmetric, entries in [0, 1], ones on the diagonal) holds how much two
answers agree. With D = diag(W 1), the normalised Laplacian is L = I - D^-1/2 W D^-1/2, whose eigenvalues lie in
[0, 2]; the number of zero eigenvalues equals the number of connected groups of answers.

claim_affinity is the default embedding meaning rule: it compares what two answers say beyond the question (the
answers with the question's words removed), and counts an answer that only adds words to another as the same
meaning (measured on backend/datasets/meaning_pairs.jsonl by bench/bench_meaning_rule.py).
"""
from __future__ import annotations

import re
from typing import Sequence

import numpy as np

ECCENTRICITY_EIGENVALUE_THRESHOLD = 0.9
SYMMETRY_RTOL, SYMMETRY_ATOL = 1e-5, 1e-8  # numpy.allclose's tolerances, |w - w.T| <= atol + rtol |w.T|


def greedy_meaning_clusters(same_meaning: np.ndarray) -> list[list[int]]:
    """Kuhn, Gal & Farquhar's clustering ("Semantic Uncertainty", ICLR 2023): answers in order, each joins the first
    cluster whose first member it shares a meaning with, else starts a new cluster.

    same_meaning: (K, K) bool; [i, j] True when i and j mean the same (for NLI: each entails the other).
    Returns clusters as lists of answer indices, in order of first appearance.
    """
    clusters: list[list[int]] = []
    for index in range(same_meaning.shape[0]):
        for cluster in clusters:
            if same_meaning[cluster[0], index] and same_meaning[index, cluster[0]]:
                cluster.append(index)
                break
        else:
            clusters.append([index])
    return clusters


def check_affinity(affinity: np.ndarray) -> np.ndarray:
    """affinity as float64 after checking it is a symmetric K x K matrix in [0, 1] with a positive diagonal."""
    w = np.asarray(affinity, dtype=np.float64)
    if w.ndim != 2 or w.shape[0] != w.shape[1] or w.shape[0] < 1:
        raise ValueError(f"the affinity must be a square K x K matrix, got shape {w.shape}")
    asymmetric = not (w == w.T).all() and \
        not (np.abs(w - w.T) <= SYMMETRY_ATOL + SYMMETRY_RTOL * np.abs(w.T)).all()
    if asymmetric or w.min() < 0 or w.max() > 1 + 1e-9 or w.diagonal().min() <= 0:
        raise ValueError("the affinity must be symmetric, in [0, 1], with a positive diagonal")
    return w


def normalized_laplacian(affinity: np.ndarray) -> np.ndarray:
    """L = I - D^-1/2 W D^-1/2 (K x K)."""
    w = check_affinity(affinity)
    inv_sqrt_degree = 1.0 / np.sqrt(w.sum(axis=1))
    return np.eye(w.shape[0]) - inv_sqrt_degree[:, None] * w * inv_sqrt_degree[None, :]


def laplacian_eigenvalues(affinity: np.ndarray) -> np.ndarray:
    """Eigenvalues (K,) ascending, clipped to [0, 2], of the normalised Laplacian (no eigenvectors: cheaper)."""
    return np.clip(np.linalg.eigvalsh(normalized_laplacian(affinity)), 0.0, 2.0)


def laplacian_spectrum(affinity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (K,) ascending, clipped to [0, 2], and eigenvectors (K, K) as columns, of the normalised
    Laplacian."""
    values, vectors = np.linalg.eigh(normalized_laplacian(affinity))
    return np.clip(values, 0.0, 2.0), vectors


def eigenvalue_uncertainty(eigenvalues: Sequence[float]) -> float:
    """U_EigV = sum_k max(0, 1 - lambda_k): a continuous count of meaning clusters, in [1, K]."""
    return float(sum(max(0.0, 1.0 - value) for value in eigenvalues))


def degree_uncertainty_of(degree: Sequence[float]) -> float:
    """U_Deg = trace(K I - D) / K^2 = 1 - mean degree / K from the degrees (K,): how little the answers agree, in
    [0, (K-1)/K]."""
    k = len(degree)
    return sum(k - d for d in degree) / k ** 2


def degree_uncertainty(affinity: np.ndarray) -> float:
    """U_Deg of an affinity (K x K): degree_uncertainty_of its degrees."""
    return degree_uncertainty_of(check_affinity(affinity).sum(axis=1).tolist())


def eccentricity(affinity: np.ndarray, *, threshold: float = ECCENTRICITY_EIGENVALUE_THRESHOLD
                 ) -> tuple[float, list[float], int]:
    """U_Ecc: spread of the answers' spectral embeddings.

    Each answer j is embedded as row j of the eigenvectors of L whose eigenvalues are below threshold; rows are
    centred on their mean. Returns (U_Ecc = Frobenius norm of the centred embeddings, in [0, sqrt(K - 1)];
    each answer's distance from the centre; the number of eigenvectors kept).
    """
    values, vectors = laplacian_spectrum(affinity)
    kept = vectors[:, values < threshold]
    centred = kept - kept.mean(axis=0, keepdims=True)
    distances = np.linalg.norm(centred, axis=1)
    return float(np.linalg.norm(centred)), [float(d) for d in distances], int(kept.shape[1])


WORD = re.compile(r"\w+(?:'\w+)?")
CHANGING_WORDS = {"not", "no", "never", "nor", "neither", "isn't", "wasn't", "aren't", "weren't", "doesn't",
                  "didn't", "don't", "can't", "won't", "or"}  # added words that change the claim: negation, alternative


def answer_words(text: str) -> list[str]:
    """The words of a text, case-folded (runs of letters and digits, with an inner apostrophe kept)."""
    return [w.casefold() for w in WORD.findall(text)]


def strip_question_words(answer: str, question: str) -> str:
    """What the answer says beyond the question: its words that are not among the question's, joined by spaces
    ("The capital of Australia is Canberra." for "What is the capital of Australia?" -> "Canberra"); the whole
    answer when every word is the question's (or the answer has none)."""
    asked = set(answer_words(question))
    kept = [w for w in WORD.findall(answer) if w.casefold() not in asked]
    return " ".join(kept) if kept else answer.strip()


def only_adds_words(a: str, b: str) -> bool:
    """Whether one text's words are the other's with words added at one place (a common prefix and suffix cover the
    shorter one: "Canberra" vs "Canberra, also known as the Bush Capital"), none of them a negation or "or"; equal
    word lists count too."""
    wa, wb = answer_words(a), answer_words(b)
    short, long_ = sorted((wa, wb), key=len)
    prefix = 0
    while prefix < len(short) and short[prefix] == long_[prefix]:
        prefix += 1
    suffix = 0
    while suffix < len(short) - prefix and short[-1 - suffix] == long_[-1 - suffix]:
        suffix += 1
    if prefix + suffix < len(short):
        return False
    return not CHANGING_WORDS & set(long_[prefix:len(long_) - suffix])


def claim_affinity(stripped: Sequence[str], vectors: np.ndarray) -> np.ndarray:
    """The default embedding meaning rule's affinity (K, K) in [0, 1], ones on the diagonal.

    stripped: the K answers with the question's words removed (strip_question_words); vectors: their sentence
    embeddings (K, D). Two answers score 1 when one only adds words to the other (only_adds_words), else the cosine
    of their embeddings, negatives as 0. Comparing what the answers add to the question keeps a long shared
    restatement ("The capital of Australia is ...") from making "Canberra" and "Sydney" look alike.
    """
    unit = np.asarray(vectors, dtype=np.float64)
    unit = unit / np.maximum(np.linalg.norm(unit, axis=1, keepdims=True), 1e-12)
    affinity = np.clip(unit @ unit.T, 0.0, 1.0)
    affinity = (affinity + affinity.T) / 2
    for i in range(len(stripped)):
        for j in range(i, len(stripped)):
            if i == j or only_adds_words(stripped[i], stripped[j]):
                affinity[i, j] = affinity[j, i] = 1.0
    return affinity
