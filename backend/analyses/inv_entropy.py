"""Inv-Entropy (Song et al. 2025, "Inv-Entropy: A Fully Probabilistic Framework for Uncertainty Quantification in
Language Models"): the inverse model p(x | y) of a dual random walk over (input, output) pairs.

N pairs (x_k, y_k): each of the P + 1 prompts (the question and its perturbations) with its answers. Two random
walks move between pairs by semantic similarity: over inputs with P_X = row-normalised |cos(e(x_k), e(x_l))|,
over outputs with P_Y likewise for the answers. Starting from a uniform pair (pi = 1/N):

- p(y)      = pi P_Y                 (N,)   where the output walk settles after one step;
- p(x | y)  = P_Y P_X                (N, N) row y: step among outputs, then from that pair's input among inputs;
- p(x)      = p(y) p(x | y)          (N,)
- p(y | x)  = p(x | y) p(y) / p(x)   (Bayes).

Inv-Entropy = -sum_k q_k ln q_k with q_k = p(x_k | y_k), the inverse model's probability of each answer's own
input (the estimator of the authors' released code: the pairs' own terms of the conditional entropy). Each term
is at most 1/e, so the value lies in [0, N/e]; higher is more uncertain (the authors rank answers by it so).
"""
from __future__ import annotations

import numpy as np


def abs_cosine(embeddings: np.ndarray) -> np.ndarray:
    """|cos| between every two rows of (n, d) embeddings: (n, n), 1 on the diagonal (zero rows: similarity 0)."""
    rows = np.asarray(embeddings, dtype=np.float64)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    unit = np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0)
    similarity = np.abs(unit @ unit.T)
    np.fill_diagonal(similarity, 1.0)
    return np.clip(similarity, 0.0, 1.0)


def row_normalised(similarity: np.ndarray) -> np.ndarray:
    """A random walk's transition matrix (n, n) from a non-negative similarity with a positive diagonal."""
    return similarity / similarity.sum(axis=1, keepdims=True)


def pair_inputs(answers_per_prompt: list[int]) -> np.ndarray:
    """The prompt index of each of the N pairs (N,), for prompts with these answer counts, in order."""
    return np.repeat(np.arange(len(answers_per_prompt)), answers_per_prompt)


def inverse_model(input_similarity: np.ndarray, output_similarity: np.ndarray) -> dict[str, np.ndarray]:
    """The dual random walk over N pairs from their input and output similarities (each (N, N), in [0, 1]).

    Returns p_y (N,), p_x_given_y (N, N; row y, column x), p_x (N,), p_y_given_x (N, N; row x, column y) and
    q (N,), each pair's p(x_k | y_k)."""
    walk_x, walk_y = row_normalised(input_similarity), row_normalised(output_similarity)
    n = len(walk_x)
    p_y = np.full(n, 1.0 / n) @ walk_y
    p_x_given_y = walk_y @ walk_x
    p_x = p_y @ p_x_given_y
    p_y_given_x = (p_x_given_y * p_y[:, None] / p_x[None, :]).T
    return {"p_y": p_y, "p_x_given_y": p_x_given_y, "p_x": p_x, "p_y_given_x": p_y_given_x,
            "q": np.diag(p_x_given_y).copy()}


def inv_entropy(q: np.ndarray) -> float:
    """-sum_k q_k ln q_k over the pairs' own inverse probabilities q (N,), in nats; in [0, N/e]."""
    kept = np.asarray(q, dtype=np.float64)
    kept = kept[kept > 0]
    return float(-(kept * np.log(kept)).sum())


def posterior_by_prompt(p_x_given_y: np.ndarray, inputs: np.ndarray, prompts: int) -> np.ndarray:
    """p(x | y) summed over the pairs of each prompt: (N answers, prompts), rows summing to 1 — how the inverse
    model spreads each answer over the question and its perturbations."""
    spread = np.zeros((len(p_x_given_y), prompts))
    for prompt in range(prompts):
        spread[:, prompt] = p_x_given_y[:, inputs == prompt].sum(axis=1)
    return spread
