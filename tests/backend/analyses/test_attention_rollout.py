"""Attention rollout: hand-computed layers, and the patch map of a tiny random timm ViT."""
from __future__ import annotations

import pytest
import torch

from backend.analyses.attention_rollout import attention_rollout, class_token_map


def test_identity_attention_rolls_out_to_identity():
    assert attention_rollout([torch.eye(3)[None]]).tolist() == torch.eye(3).tolist()


def test_two_layers_attending_to_the_second_token_by_hand():
    layer = torch.tensor([[[0.0, 1.0], [0.0, 1.0]]])  # every token attends to token 1
    # one layer: 0.5 A + 0.5 I = [[0.5, 0.5], [0, 1]]; two layers: its square = [[0.25, 0.75], [0, 1]]
    assert attention_rollout([layer]).tolist() == [[0.5, 0.5], [0.0, 1.0]]
    assert attention_rollout([layer, layer]).tolist() == [[0.25, 0.75], [0.0, 1.0]]


def test_heads_are_averaged():
    heads = torch.stack([torch.eye(2), torch.tensor([[0.0, 1.0], [1.0, 0.0]])])
    # mean of heads = all 0.5; mixed with I -> [[0.75, 0.25], [0.25, 0.75]]
    assert attention_rollout([heads]).tolist() == [[0.75, 0.25], [0.25, 0.75]]


def test_rows_of_a_random_rollout_sum_to_one():
    layers = [torch.softmax(torch.randn(3, 5, 5, generator=torch.Generator().manual_seed(i)), -1) for i in range(4)]
    assert attention_rollout(layers).sum(dim=-1).tolist() == pytest.approx([1.0] * 5)


def test_class_token_map_skips_prefix_tokens_and_keeps_row_major_order():
    rollout = torch.arange(25, dtype=torch.float64).reshape(5, 5)
    assert class_token_map(rollout, 1, (2, 2)).tolist() == [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(ValueError, match="does not fit"):
        class_token_map(rollout, 1, (3, 3))


def test_bad_layers_raise():
    with pytest.raises(ValueError, match="at least one"):
        attention_rollout([])
    with pytest.raises(ValueError, match="expected attention"):
        attention_rollout([torch.eye(3)[None], torch.eye(2)[None]])
