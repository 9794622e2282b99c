"""Attention rollout for vision transformers: how much each patch flows into the class token across layers.

Abnar & Zuidema, "Quantifying Attention Flow in Transformers" (ACL 2020): per layer, average the heads, add the
identity for the residual connection (A' = 0.5 A + 0.5 I), renormalise rows, and multiply the layers' matrices
from the first layer up. Pure functions on tensors; the result does not depend on a target class.
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch

RESIDUAL_WEIGHT = 0.5


def attention_rollout(attentions: Sequence[torch.Tensor]) -> torch.Tensor:
    """The rolled-out attention (T, T) of L layers' attention maps.

    attentions: L tensors (heads, T, T), each row a softmax over the T tokens (rows sum to 1), first layer first.
    Row i of the result: the share of token i's final representation that traces back to each input token;
    rows sum to 1.
    """
    if not attentions:
        raise ValueError("attention rollout needs at least one layer's attention")
    rollout = None
    for layer in attentions:
        rollout = rollout_step(rollout, layer)
    return rollout


def rollout_step(rollout: Optional[torch.Tensor], layer: torch.Tensor) -> torch.Tensor:
    """The rollout (T, T, float64) with one more layer's attention (heads, T, T) multiplied in on top; rollout None
    before the first layer (the identity). Folding the layers in one at a time equals attention_rollout."""
    tokens = layer.shape[-1]
    if layer.ndim != 3 or layer.shape[-2] != tokens or (rollout is not None and rollout.shape != (tokens, tokens)):
        raise ValueError(f"expected attention of shape (heads, T, T) matching the rollout, got {tuple(layer.shape)}")
    identity = torch.eye(tokens, dtype=torch.float64, device=layer.device)
    mixed = (1 - RESIDUAL_WEIGHT) * layer.to(torch.float64).mean(dim=0) + RESIDUAL_WEIGHT * identity
    mixed = mixed / mixed.sum(dim=-1, keepdim=True)
    return mixed if rollout is None else mixed @ rollout


def class_token_map(rollout: torch.Tensor, prefix_tokens: int, grid: tuple[int, int]) -> torch.Tensor:
    """The class token's row over the patch tokens, as a (rows, cols) map of the patch grid.

    rollout: (T, T) with T = prefix_tokens + rows * cols; token 0 is the class token; prefix tokens (class,
    registers) come before the patches, which are in row-major order.
    """
    rows, cols = grid
    if rollout.shape != (prefix_tokens + rows * cols,) * 2:
        raise ValueError(f"rollout {tuple(rollout.shape)} does not fit {prefix_tokens} prefix tokens and a "
                         f"{rows}x{cols} patch grid")
    return rollout[0, prefix_tokens:].reshape(rows, cols)
