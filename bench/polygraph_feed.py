"""UQ Lens's evidence for kernel language entropy and CoCoA in lm-polygraph 0.7's statistics, for
bench/bench_vs_lm_polygraph.py (pure functions; only numpy at import, so that both venvs import it).

- KLE: lm-polygraph builds its graph from NLI probability matrices E (entailment) and C (contradiction) as
  W' = E + E^T + (2 - E - E^T - C - C^T) / 2 = 1 + (E + E^T)/2 - (C + C^T)/2 (both directions summed, entries in
  [0, 2]; neutral counts 1/2). Fed E = W and C = 1 - W, with W UQ Lens's symmetric meaning affinity, its graph is
  exactly 2W, so its heat kernel exp(-t' L(2W)) equals UQ Lens's exp(-t L(W)) at t' = t / 2 (the diagonal cancels in
  both Laplacians).
- CoCoA: lm-polygraph's greedy_sentence_similarity (a cross-encoder's score of the greedy answer against each
  sample) is UQ Lens's answer_similarity.
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
