"""Attention rollout for vision transformers: how much each patch flows into the class token across layers.

Abnar & Zuidema, "Quantifying Attention Flow in Transformers" (ACL 2020): per layer, average the heads, add the
identity for the residual connection (A' = 0.5 A + 0.5 I), renormalise rows, and multiply the layers' matrices
from the first layer up. Pure functions on tensors; the result does not depend on a target class.
"""
from __future__ import annotations

from typing import Sequence

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
    tokens = attentions[0].shape[-1]
    identity = torch.eye(tokens, dtype=torch.float64, device=attentions[0].device)
    rollout = identity
    for layer in attentions:
        if layer.ndim != 3 or layer.shape[-2:] != (tokens, tokens):
            raise ValueError(f"expected attention of shape (heads, {tokens}, {tokens}), got {tuple(layer.shape)}")
        mixed = (1 - RESIDUAL_WEIGHT) * layer.to(torch.float64).mean(dim=0) + RESIDUAL_WEIGHT * identity
        mixed = mixed / mixed.sum(dim=-1, keepdim=True)
        rollout = mixed @ rollout
    return rollout


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
