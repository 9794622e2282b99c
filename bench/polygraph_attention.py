"""How bench/bench_vs_lm_polygraph.py feeds RAUQ to lm-polygraph 0.7: UQ Lens's previous-token attention made its
"attention_all" statistic.

lm-polygraph's RAUQ reads attention_all (L*H, T, T) (row j: the step producing generated token j over the
generated tokens) and takes its diagonal below the main one, row j's weight on token j-1: UQ Lens's
prev[l, h, j-1]. The rest of each row is not read by RAUQ, so it is left 0 here.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np


def attention_all(prev: np.ndarray) -> np.ndarray:
    """(L*H, T, T) with [l*H + h, j, j-1] = prev[l, h, j-1] (prev (L, H, T-1)) and 0 elsewhere."""
    n_layers, n_heads, steps = prev.shape
    full = np.zeros((n_layers * n_heads, steps + 1, steps + 1))
    rows = np.arange(1, steps + 1)
    full[:, rows, rows - 1] = prev.reshape(n_layers * n_heads, steps)
    return full


def attention_stats(attention: Any) -> dict[str, Any]:
    """The statistics RAUQ reads from UQ Lens's AttentionEvidence (None: no attention was read)."""
    if attention is None:
        return {}
    return {"attention_all": [attention_all(attention.prev)], "attention_shape": attention.prev.shape[:2]}


class SizedRAUQ:
    """lm-polygraph's RAUQ built at call time with the model's layer and head counts from the statistics
    (its constructor would otherwise read them from a loaded model)."""

    def __init__(self, est: Any, alpha: float) -> None:
        self.est, self.alpha = est, alpha
        self.bench_label = f"RAUQ(alpha={alpha:g})"

    def __call__(self, stats: Mapping[str, Any]) -> Any:
        n_layers, n_heads = stats["attention_shape"]
        return self.est.RAUQ(alpha=self.alpha, n_layers=int(n_layers), n_heads=int(n_heads))(stats)
