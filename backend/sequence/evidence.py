"""Gathering what the sequence methods need from the embedding and NLI models.

- Token relevance (SAR): the prompt followed by the answer is embedded once whole and once with each token removed
  (as lm-polygraph does, with an embedding model's cosine in place of a cross-encoder's score).
- Meaning: with an NLI model, two answers share a meaning when each is classified as entailing the other
  (Kuhn et al.), and their affinity is the mean of the two entailment probabilities (Lin et al.); with an embedding
  model, by the claim rule: what the answers say beyond the question (their words that are not the question's) is
  embedded, their affinity is 1 when one only adds words to the other, else the cosine (negatives as 0), and they
  share a meaning when it reaches the threshold. Identical answers always share a meaning with affinity 1.
- Answer meaning (CoCoA): the analysed answer's affinity to each sample by the same rule as the graph's.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from transformers import PreTrainedTokenizerBase

from backend.analyses.meaning_graph import claim_affinity, strip_question_words
from backend.analyses.sample_scores import unit_rows
from backend.models.embedding_loader import LoadedEmbeddingModel
from backend.models.nli_loader import LoadedNliModel


def removal_texts(tokenizer: PreTrainedTokenizerBase, prompt: str, answer_ids: Sequence[int]) -> list[str]:
    """[prompt + answer] followed by prompt + answer with token i removed, for each of the T answer tokens."""
    def joined(ids: Sequence[int]) -> str:
        return f"{prompt} {tokenizer.decode(list(ids), skip_special_tokens=True)}"
    return [joined(answer_ids)] + [joined(list(answer_ids[:i]) + list(answer_ids[i + 1:]))
                                   for i in range(len(answer_ids))]


def removal_texts_from_pieces(prompt: str, pieces: Sequence[str], special: Sequence[bool]) -> list[str]:
    """removal_texts from the answer's T token texts (a served model's: the engine returns each token's text)
    instead of a tokenizer: the pieces joined, special ones (the end token) left out as decoding skips them."""
    kept = [piece if not is_special else "" for piece, is_special in zip(pieces, special)]
    return [f"{prompt} {''.join(kept)}"] + [f"{prompt} {''.join(kept[:i] + kept[i + 1:])}" for i in range(len(kept))]


def group_similarities(embedder: LoadedEmbeddingModel, groups: Sequence[Sequence[str]]) -> list[list[float]]:
    """For each group [whole, without token 1, ..., without token T], the cosine similarity (T,) of each later
    text to the first; every text of every group embedded in one batched call."""
    embeddings = unit_rows(embedder.embed([text for group in groups for text in group]))
    similarities, start = [], 0
    for group in groups:
        block = embeddings[start:start + len(group)]
        similarities.append([float(v) for v in block[1:] @ block[0]])
        start += len(group)
    return similarities


def removal_similarities(embedder: LoadedEmbeddingModel, tokenizer: PreTrainedTokenizerBase, prompt: str,
                         answers: Sequence[Sequence[int]]) -> list[list[float]]:
    """For each answer, the cosine similarity (T,) between prompt + answer and prompt + answer without each token.

    All texts of all answers are embedded in one batched call.
    """
    return group_similarities(embedder, [removal_texts(tokenizer, prompt, ids) for ids in answers])


def meaning_by_embedding(embedder: LoadedEmbeddingModel, texts: Sequence[str], question: str,
                         threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """(same meaning (K, K) bool, affinity (K, K) in [0, 1]) by the claim rule (meaning_graph.claim_affinity): the K
    answers with the question's words removed are embedded in one call; same meaning at affinity >= threshold."""
    stripped = [strip_question_words(text, question) for text in texts]
    affinity = claim_affinity(stripped, embedder.embed(stripped))
    return affinity >= threshold, affinity


def meaning_by_nli(nli: LoadedNliModel, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(same meaning (K, K) bool, affinity (K, K) in [0, 1]) from NLI over both directions of each pair of distinct
    answer texts (each distinct pair asked once, all in one batched call)."""
    distinct = list(dict.fromkeys(texts))
    pairs = [(a, b) for a in range(len(distinct)) for b in range(len(distinct)) if a != b]
    same_distinct = np.eye(len(distinct), dtype=bool)
    entail_distinct = np.eye(len(distinct))
    if pairs:
        probs = nli.probabilities([distinct[a] for a, _ in pairs], [distinct[b] for _, b in pairs])
        for (a, b), row in zip(pairs, probs):
            entail_distinct[a, b] = row[nli.entailment]
            same_distinct[a, b] = row.argmax() == nli.entailment
    index = [distinct.index(text) for text in texts]
    same = same_distinct[np.ix_(index, index)]
    same = same & same.T
    affinity = (entail_distinct + entail_distinct.T)[np.ix_(index, index)] / 2
    np.fill_diagonal(affinity, 1.0)
    return same, affinity


def answer_similarity_by_embedding(embedder: LoadedEmbeddingModel, answer: str, texts: Sequence[str],
                                   question: str) -> list[float]:
    """The analysed answer's affinity (K,) in [0, 1] to each of the K sample texts by the claim rule (the same
    affinity as meaning_by_embedding's graph): the answer and the samples with the question's words removed are
    embedded in one call."""
    stripped = [strip_question_words(text, question) for text in [answer, *texts]]
    return [float(v) for v in claim_affinity(stripped, embedder.embed(stripped))[0, 1:]]


def answer_similarity_by_nli(nli: LoadedNliModel, answer: str, texts: Sequence[str]) -> list[float]:
    """The analysed answer's affinity (K,) in [0, 1] to each sample text as meaning_by_nli's graph defines it: the
    mean of the entailment probabilities answer -> sample and sample -> answer; 1 for a sample equal to the answer.
    Each distinct other text is asked once both ways, all in one batched call."""
    others = [text for text in dict.fromkeys(texts) if text != answer]
    similarity = {answer: 1.0}
    if others:
        probs = nli.probabilities([answer] * len(others) + others, others + [answer] * len(others))
        for i, text in enumerate(others):
            similarity[text] = float(probs[i, nli.entailment] + probs[len(others) + i, nli.entailment]) / 2
    return [similarity[text] for text in texts]
