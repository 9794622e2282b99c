"""Attention aggregations on hand-made maps, and rollout against a direct re-implementation."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from backend.analyses import text_attention

# Two layers, two heads, three tokens; causal rows that sum to 1.
LAYER0 = [[[1, 0, 0], [0.5, 0.5, 0], [0.2, 0.3, 0.5]],
          [[1, 0, 0], [1.0, 0.0, 0], [0.0, 0.0, 1.0]]]
LAYER1 = [[[1, 0, 0], [0.0, 1.0, 0], [0.6, 0.2, 0.2]],
          [[1, 0, 0], [0.5, 0.5, 0], [0.4, 0.4, 0.2]]]
ATTENTIONS = torch.tensor([LAYER0, LAYER1], dtype=torch.float64)


def test_head_mean_and_layer_mean_by_hand():
    head_mean = text_attention.head_mean(ATTENTIONS)
    assert head_mean[0].numpy() == pytest.approx(np.array([[1, 0, 0], [0.75, 0.25, 0], [0.1, 0.15, 0.75]]))
    assert head_mean[1].numpy() == pytest.approx(np.array([[1, 0, 0], [0.25, 0.75, 0], [0.5, 0.3, 0.2]]))
    assert text_attention.layer_mean(ATTENTIONS).numpy() == pytest.approx(
        np.array([[1, 0, 0], [0.5, 0.5, 0], [0.3, 0.225, 0.475]]))


def test_rollout_by_hand():
    # Layer means with half identity: A0' = [[1,0,0],[.375,.625,0],[.05,.075,.875]],
    # A1' = [[1,0,0],[.125,.875,0],[.25,.15,.6]]; rollout = A1' @ A0'.
    expected = [[1, 0, 0], [0.125 + 0.875 * 0.375, 0.875 * 0.625, 0],
                [0.25 + 0.15 * 0.375 + 0.6 * 0.05, 0.15 * 0.625 + 0.6 * 0.075, 0.6 * 0.875]]
    rolled = text_attention.rollout(ATTENTIONS)
    assert rolled.numpy() == pytest.approx(np.array(expected))
    assert rolled.sum(dim=-1).tolist() == pytest.approx([1, 1, 1])


def numpy_rollout(attentions: np.ndarray) -> np.ndarray:
    """Abnar & Zuidema's rollout written out directly."""
    size = attentions.shape[-1]
    result = np.eye(size)
    for layer in attentions:
        mixed = 0.5 * layer.mean(axis=0) + 0.5 * np.eye(size)
        mixed /= mixed.sum(axis=-1, keepdims=True)
        result = mixed @ result
    return result


def random_causal_attentions(layers: int, heads: int, size: int, seed: int = 0) -> torch.Tensor:
    """(L, H, T, T) softmax rows over earlier positions."""
    generator = torch.Generator().manual_seed(seed)
    scores = torch.randn(layers, heads, size, size, generator=generator, dtype=torch.float64)
    scores = scores.masked_fill(torch.triu(torch.ones(size, size, dtype=torch.bool), 1), float("-inf"))
    return scores.softmax(dim=-1)


def test_rollout_matches_a_direct_reimplementation():
    attentions = random_causal_attentions(4, 3, 9)
    assert text_attention.rollout(attentions).numpy() == pytest.approx(numpy_rollout(attentions.numpy()), abs=1e-12)


def test_view_matrix_picks_the_right_map():
    assert text_attention.view_matrix(ATTENTIONS, "head", 1, 0).tolist() == LAYER1[0]
    assert torch.equal(text_attention.view_matrix(ATTENTIONS, "head_mean", 0, 0),
                       text_attention.head_mean(ATTENTIONS)[0])
    with pytest.raises(ValueError, match="unknown aggregation"):
        text_attention.view_matrix(ATTENTIONS, "max", 0, 0)


def test_producing_rows_are_the_previous_query_over_earlier_keys():
    rows = text_attention.producing_rows(torch.tensor(LAYER0[0]), [1, 2])
    assert [r.tolist() for r in rows] == [[1.0], [0.5, 0.5]]
    with pytest.raises(ValueError):
        text_attention.producing_rows(torch.tensor(LAYER0[0]), [0])


def test_words_sum_keys_and_average_queries():
    matrix = torch.tensor(LAYER0[0], dtype=torch.float64)
    words = text_attention.aggregate_to_words(matrix, [0, 1, 1])
    # word 1 = tokens 1 and 2: keys summed, its row the mean of rows 1 and 2.
    assert words.numpy() == pytest.approx(np.array([[1.0, 0.0], [0.35, 0.65]]))
    assert words.sum(dim=-1).tolist() == pytest.approx([1.0, 1.0])


def test_window_and_pool():
    matrix = torch.arange(16, dtype=torch.float64).reshape(4, 4)
    assert text_attention.window(matrix, 1, 3).tolist() == [[5, 6], [9, 10]]
    assert text_attention.pool(matrix, 2).tolist() == [[2.5, 4.5], [10.5, 12.5]]
    assert text_attention.pool(matrix, 8).shape == (4, 4)
    with pytest.raises(ValueError, match="window"):
        text_attention.window(matrix, 3, 5)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="layers, heads, T, T"):
        text_attention.head_mean(torch.ones(2, 3, 3))
