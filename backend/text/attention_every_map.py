"""Every attention map of a sequence over one view's window, for a view that switches maps in the browser: each
head, each layer's head mean, the all-layer mean and the rollout, each as its window's causal part (the rows up to
the diagonal) and one position's producing row. The same numbers as one view of each map (view_matrix, then the
window), computed from the token window of every layer at once.
"""
from __future__ import annotations

import torch

from backend.analyses import text_attention
from backend.errors import UserInputError
from backend.schemas.text_attention import (MATRIX_DECIMALS, MAX_EVERY_MAP_VALUES, AttentionViewRequest, EveryMap,
                                            InputToken, MapWindow, every_map_values)
from backend.text.attention_window import grouped, token_span, view_frame, view_label


def lower_rows(matrix: torch.Tensor) -> list[list[float]]:
    """(n, n) -> n lists, row i its first i + 1 values (the causal part), rounded to MATRIX_DECIMALS."""
    rounded = matrix.double().round(decimals=MATRIX_DECIMALS).cpu().tolist()
    return [row[:i + 1] for i, row in enumerate(rounded)]


def check_every_map(n_layers: int, n_heads: int, units: int, position: int, length: int) -> None:
    """Refuse a position outside the sequence, or a window whose every map passes MAX_EVERY_MAP_VALUES."""
    if not 1 <= position < length:
        raise UserInputError(f"every_map_position {position} must lie in 1..{length - 1} (a token with a token "
                             f"before it)")
    values = every_map_values(n_layers, n_heads, units)
    if values > MAX_EVERY_MAP_VALUES:
        raise UserInputError(f"every map over a {units}-unit window is {values:,} numbers, past the "
                             f"{MAX_EVERY_MAP_VALUES:,} allowed: choose a smaller matrix window, or switch maps one "
                             f"at a time (leave every_map_position unset)")


def every_map(attentions: torch.Tensor, rolled: torch.Tensor, tokens: list[InputToken],
              view: AttentionViewRequest) -> EveryMap:
    """Every map over the view's window and the producing row of view.every_map_position.

    attentions: (L, H, T, T) of one pass; rolled: (T, T) its rollout; tokens: the sequence's T input tokens.
    """
    n_layers, n_heads = attentions.shape[:2]
    _labels, _starts, first, stop = view_frame(tokens, view)
    position = int(view.every_map_position)
    check_every_map(n_layers, n_heads, stop - first, position, len(tokens))
    lo, hi = token_span(tokens, view, first, stop)
    span = tokens[lo:hi]
    block = text_attention.window(attentions, lo, hi)
    heads, means = grouped(block, span, view), grouped(block.mean(dim=1), span, view)
    layer_mean = grouped(text_attention.window(text_attention.layer_mean(attentions), lo, hi), span, view)
    rollout = grouped(text_attention.window(rolled, lo, hi), span, view)
    query = position - 1
    maps = [MapWindow(aggregation="head", layer=layer, head=head, label=view_label("head", layer, head),
                      lower=lower_rows(heads[layer, head]), row=attentions[layer, head, query, :position].tolist())
            for layer in range(n_layers) for head in range(n_heads)]
    head_means = attentions[:, :, query, :position].mean(dim=1)
    maps += [MapWindow(aggregation="head_mean", layer=layer, head=0, label=view_label("head_mean", layer, 0),
                       lower=lower_rows(means[layer]), row=head_means[layer].tolist()) for layer in range(n_layers)]
    all_layers = attentions[:, :, query, :position].mean(dim=(0, 1))
    last = n_layers - 1
    maps += [MapWindow(aggregation="layer_mean", layer=last, head=0, label=view_label("layer_mean", last, 0),
                       lower=lower_rows(layer_mean), row=all_layers.tolist()),
             MapWindow(aggregation="rollout", layer=last, head=0, label=view_label("rollout", last, 0),
                       lower=lower_rows(rollout), row=rolled[query, :position].double().tolist())]
    return EveryMap(position=position, maps=maps)
