"""UQ Lens's evidence for kernel language entropy and CoCoA in lm-polygraph 0.7's statistics, for
bench/bench_vs_lm_polygraph.py (pure functions; only numpy at import, so that both venvs import it).

- KLE: lm-polygraph builds its graph from NLI probability matrices E (entailment) and C (contradiction) as
  W' = E + E^T + (2 - E - E^T - C - C^T) / 2 = 1 + (E + E^T)/2 - (C + C^T)/2 (both directions summed, entries in
  [0, 2]; neutral counts 1/2). Fed E = W and C = 1 - W, with W UQ Lens's symmetric meaning affinity, its graph is
  exactly 2W, so its heat kernel exp(-t' L(2W)) equals UQ Lens's exp(-t L(W)) at t' = t / 2 (the diagonal cancels in
  both Laplacians).
- CoCoA: lm-polygraph's greedy_sentence_similarity (a cross-encoder's score of the greedy answer against each
  sample) is UQ Lens's answer_similarity.
- CCP: lm-polygraph's sequence-level ClaimConditionedProbability reads, per answer token, its alternatives as
  (text, log p) the chosen one first and the NLI class of each against the chosen one (it combines [0][i] with
  [i][0]); fed UQ Lens's claim_alternatives (each class in both directions, so its combination keeps it; a token
  outside the claims or special: the chosen token alone, a ratio of 1), its -exp(sum ln ratio) is -(UQ Lens's ccp).
- LUQ: lm-polygraph's LUQ has no claim split: it scores each sample against the others on a K x K matrix of
  entail / contra logits. Fed a matrix whose every row k holds ln m_k and ln(1 - m_k), m_k the answer's mean claim
  support by sample k, its 1 - mean_j (sum_k S_jk - S_jj) / (K - 1) is 1 - mean_k m_k: UQ Lens's luq.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np


def kle_matrices(affinity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(semantic_matrix_entail, semantic_matrix_contra), each (1, K, K): E = W and C = 1 - W, which make
    lm-polygraph's KLE graph 2W."""
    w = np.asarray(affinity, dtype=np.float64)
    return w[None], (1.0 - w)[None]


def polygraph_heat_time(t: float) -> float:
    """lm-polygraph's heat-kernel time t' for UQ Lens's t: its graph is twice UQ Lens's, so t' = t / 2."""
    return t / 2


def cocoa_stats(answer_similarity: Sequence[float]) -> dict[str, Any]:
    """lm-polygraph's greedy_sentence_similarity (a batch of one answer) from UQ Lens's answer_similarity (K,)."""
    return {"greedy_sentence_similarity": [np.asarray(answer_similarity, dtype=np.float64)]}


class Fed:
    """An lm-polygraph estimator called on the shared statistics with some replaced (`replaced(stats)` gives them),
    labelled for the bench's table."""

    def __init__(self, estimator: Any, replaced: Callable[[Mapping[str, Any]], dict[str, Any]], label: str) -> None:
        self.estimator, self.replaced, self.bench_label = estimator, replaced, label

    def __call__(self, stats: Mapping[str, Any]) -> Any:
        return self.estimator({**stats, **self.replaced(stats)})


def kle_replaced(stats: Mapping[str, Any]) -> dict[str, Any]:
    """The KLE matrices made from the shared statistics' affinity (their semantic_matrix_entail)."""
    entail, contra = kle_matrices(stats["semantic_matrix_entail"][0])
    return {"semantic_matrix_entail": entail, "semantic_matrix_contra": contra}


def ccp_stats(claim_alternatives: Sequence[Any], answer_texts: Sequence[str]) -> dict[str, Any]:
    """greedy_tokens, greedy_tokens_alternatives and greedy_tokens_alternatives_nli (a batch of one answer) from
    UQ Lens's claim_alternatives (per answer token None or [(prob, class)], the chosen token first) and the answer's
    token texts (T,)."""
    alternatives, classes = [], []
    for text, alts in zip(answer_texts, claim_alternatives):
        alts = alts or [(1.0, "entail")]
        alternatives.append([(text if i == 0 else f"alt{i}", float(np.log(p))) for i, (p, _) in enumerate(alts)])
        grid = [["entail"] * len(alts) for _ in alts]
        for i, (_, cls) in enumerate(alts):
            grid[0][i] = grid[i][0] = "entail" if i == 0 else cls
        classes.append(grid)
    return {"greedy_tokens": [list(range(len(answer_texts)))], "greedy_tokens_alternatives": [alternatives],
            "greedy_tokens_alternatives_nli": [classes]}


def luq_stats(claim_support: np.ndarray) -> dict[str, Any]:
    """semantic_matrix_entail_logits / semantic_matrix_contra_logits (1, K, K) whose every row is ln m_k and
    ln(1 - m_k), m_k the mean over claims of the support of the answer's claims (claims, K) by sample k."""
    mean = np.asarray(claim_support, dtype=np.float64).mean(axis=0)
    with np.errstate(divide="ignore"):
        entail, contra = np.log(mean), np.log(1.0 - mean)
    rows = len(mean)
    return {"semantic_matrix_entail_logits": np.tile(entail, (rows, 1))[None],
            "semantic_matrix_contra_logits": np.tile(contra, (rows, 1))[None]}
