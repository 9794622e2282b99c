"""Attention maps of a causal language model: single heads, head means, the all-layer mean and attention rollout,
cut to a window, grouped into words, or pooled into thumbnails.

Pure functions on tensors. Input everywhere: `attentions` (L, H, T, T) from one forward pass with eager attention;
row q of a map is the softmax of query position q over the key positions 0..q (rows sum to 1, causal: zero above
the diagonal). Rollout: Abnar & Zuidema, "Quantifying Attention Flow in Transformers" (ACL 2020).
"""
from __future__ import annotations

from typing import Literal, Optional, Sequence

import torch
import torch.nn.functional as F

from backend.analyses.attention_rollout import attention_rollout

Aggregation = Literal["head", "head_mean", "layer_mean", "rollout"]
AGGREGATIONS: dict[str, str] = {
    "head": "one head of one layer",
    "head_mean": "mean over the heads of one layer",
    "layer_mean": "mean over every head of every layer",
    "rollout": "attention rollout over all layers (Abnar & Zuidema 2020): heads averaged, half identity added "
               "for the residual, rows renormalised, layers multiplied from the first up",
}


def check_attentions(attentions: torch.Tensor) -> None:
    """Raise ValueError unless attentions is (L, H, T, T) with L, H, T >= 1."""
    if attentions.ndim != 4 or attentions.shape[-1] != attentions.shape[-2] or 0 in attentions.shape:
        raise ValueError(f"expected attentions of shape (layers, heads, T, T), got {tuple(attentions.shape)}")


def head_mean(attentions: torch.Tensor) -> torch.Tensor:
    """(L, T, T): each layer's heads averaged; rows still sum to 1."""
    check_attentions(attentions)
    return attentions.mean(dim=1)


def layer_mean(attentions: torch.Tensor) -> torch.Tensor:
    """(T, T): every head of every layer averaged; rows still sum to 1."""
    check_attentions(attentions)
    return attentions.mean(dim=(0, 1))


def rollout(attentions: torch.Tensor) -> torch.Tensor:
    """(T, T) float64 attention rollout over all layers, first layer first; rows sum to 1."""
    check_attentions(attentions)
    return attention_rollout(list(attentions))


def view_matrix(attentions: torch.Tensor, aggregation: Aggregation, layer: int, head: int,
                rolled: Optional[torch.Tensor] = None) -> torch.Tensor:
    """The (T, T) map one view shows. layer, head: 0-based (ignored where the aggregation does not use them).

    rolled: a rollout already computed from the same attentions, to reuse.
    """
    check_attentions(attentions)
    if aggregation == "head":
        return attentions[layer, head]
    if aggregation == "head_mean":
        return attentions[layer].mean(dim=0)
    if aggregation == "layer_mean":
        return layer_mean(attentions)
    if aggregation == "rollout":
        return rollout(attentions) if rolled is None else rolled
    raise ValueError(f"unknown aggregation {aggregation!r}; use one of {sorted(AGGREGATIONS)}")


def producing_rows(matrix: torch.Tensor, positions: Sequence[int]) -> list[torch.Tensor]:
    """For each token position p >= 1, the row of query p - 1 (the step that produced token p) over keys 0..p-1.

    matrix: (T, T). Returns len(positions) tensors, the one for p of length p; each sums to 1 for attention maps.
    """
    if any(p < 1 or p > matrix.shape[0] - 1 for p in positions):
        raise ValueError(f"positions must lie in 1..{matrix.shape[0] - 1}, got {list(positions)}")
    return [matrix[p - 1, :p] for p in positions]


def word_matrix(word_of: Sequence[int], device: torch.device | str = "cpu") -> torch.Tensor:
    """(T, W) float one-hot membership of each token in its word (word_of from backend.analyses.words)."""
    index = torch.tensor(list(word_of), device=device)
    return F.one_hot(index, num_classes=int(index.max()) + 1).to(torch.float64)


def aggregate_to_words(maps: torch.Tensor, word_of: Sequence[int]) -> torch.Tensor:
    """(..., T, T) maps -> (..., W, W): keys summed within a word, queries averaged within a word.

    Summing keys keeps each row a distribution over words; averaging queries keeps it one (rows sum to 1).
    """
    members = word_matrix(word_of, maps.device)
    counts = members.sum(dim=0)
    summed = maps.to(torch.float64) @ members
    return (members.T @ summed) / counts[:, None]


def window(maps: torch.Tensor, start: int, stop: int) -> torch.Tensor:
    """(..., stop - start, stop - start): the square block of queries and keys start..stop-1."""
    size = maps.shape[-1]
    if not 0 <= start < stop <= size:
        raise ValueError(f"window {start}..{stop - 1} must lie within 0..{size - 1}")
    return maps[..., start:stop, start:stop]


def pool(maps: torch.Tensor, size: int) -> torch.Tensor:
    """(..., R, C) -> (..., min(R, size), min(C, size)) by averaging near-equal blocks (adaptive average pooling).

    A thumbnail cell is the mean attention weight of the query-key pairs it covers.
    """
    rows, cols = maps.shape[-2:]
    flat = maps.reshape(-1, 1, rows, cols).to(torch.float64)
    pooled = F.adaptive_avg_pool2d(flat, (min(rows, size), min(cols, size)))
    return pooled.reshape(*maps.shape[:-2], *pooled.shape[-2:])
