"""Attention maps of an analysed sequence from one forward pass with eager attention.

The answer rows (rollout and the last layer's head mean) are always returned; a view adds one chosen map's rows,
a square window of it (tokens or words) and every head's thumbnail over that window. The caller holds the model's
lock. The last sequence's attentions and rollout are kept (up to CACHE_BYTES), so that changing the view (layer,
head, window) does not run the model again: the model keeps them (LoadedTextModel.kept_attention, one per model in
the model pool, which clears them when the GPU runs out of memory). A sequence whose every-layer weights would pass
ATTENTION_BUDGET_BYTES (a 2,000-token answer: 4 GiB on the default model) is folded one layer at a time instead
(backend.text.attention_stream: the same numbers, one layer's weights held at a time, a pass per view).
"""
from __future__ import annotations

import time
from typing import Callable, Optional, Sequence

import torch

from backend.analyses import text_attention
from backend.errors import UserInputError
from backend.models.text_loader import LoadedTextModel
from backend.schemas.text_attention import (AttentionMatrix, AttentionView, AttentionViewRequest, HeadGrid,
                                            InputToken, TextAttention, TextAttentionRequest)
from backend.text.attention_every_map import every_map
from backend.text.attention_stream import folded_attention, refuse_past_budget
from backend.text.attention_window import view_frame, view_label, windowed
from backend.text.positions import check_ids, input_tokens

THUMBNAIL_DECIMALS = 4
CACHE_BYTES = 512 << 20
ATTENTION_BUDGET_BYTES = 2**30  # the weights of every layer and head of one pass (folded a layer at a time beyond)
ROWS_NOTE = ("for the answer token at position p: the attention row of query p - 1, the step that produced it, "
             "over positions 0..p-1 (sums to 1)")


def attention_bytes(lm: LoadedTextModel, tokens: int) -> int:
    """Bytes of the (layers, heads, T, T) float32 attention weights of one pass over `tokens` tokens."""
    config = lm.model.config
    return int(config.num_hidden_layers) * int(config.num_attention_heads) * tokens * tokens * 4


def fits_at_once(lm: LoadedTextModel, tokens: int) -> bool:
    """Whether every layer's weights of `tokens` tokens fit ATTENTION_BUDGET_BYTES (else they are folded)."""
    return attention_bytes(lm, tokens) <= ATTENTION_BUDGET_BYTES


def check_attention_size(lm: LoadedTextModel, tokens: int) -> None:
    """Refuse attention maps whose weights would pass ATTENTION_BUDGET_BYTES (they grow with the square of the
    length), naming the longest sequence that fits."""
    refuse_past_budget(lm, tokens, attention_bytes, ATTENTION_BUDGET_BYTES)


def attention_weights(lm: LoadedTextModel, ids: Sequence[int]) -> torch.Tensor:
    """(L, H, T, T) float32 attention probabilities of one forward pass over ids, on the model's device; refused
    (before the pass) when they would pass ATTENTION_BUDGET_BYTES."""
    check_attention_size(lm, len(ids))
    with torch.inference_mode():
        tensor = torch.tensor([list(ids)], device=lm.device)
        out = lm.model(input_ids=tensor, attention_mask=torch.ones_like(tensor), output_attentions=True)
    if not out.attentions or out.attentions[0] is None:
        raise UserInputError(f"{lm.spec.id} does not return attention weights; load it with eager attention")
    return torch.stack([layer[0] for layer in out.attentions]).float()


def kept_attention(lm: LoadedTextModel, ids: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """(attentions (L, H, T, T), rollout (T, T)) of ids: the ones the model kept when it ran these ids last, else
    computed (and kept when they fit in CACHE_BYTES)."""
    def compute() -> tuple[torch.Tensor, torch.Tensor]:
        attentions = attention_weights(lm, ids)
        return attentions, text_attention.rollout(attentions)

    attentions, rolled = lm.kept_attention.get(tuple(ids), compute, CACHE_BYTES)
    return attentions, rolled


def rows_as_lists(rows: list[torch.Tensor]) -> list[list[float]]:
    """Plain nested lists (float64 precision kept)."""
    return [row.double().cpu().tolist() for row in rows]


def view_layer(n_layers: int, n_heads: int, view: AttentionViewRequest) -> int:
    """The view's layer (the last when unset), refused when it or the head is not the model's."""
    layer = n_layers - 1 if view.layer is None else view.layer
    if layer >= n_layers or view.head >= n_heads:
        raise UserInputError(f"the model has layers 0..{n_layers - 1} and heads 0..{n_heads - 1}; got layer {layer}, "
                             f"head {view.head}")
    return layer


def assemble_view(view: AttentionViewRequest, layer: int, matrix: torch.Tensor, grid: torch.Tensor,
                  tokens: list[InputToken], answer_start: int) -> AttentionView:
    """The view from its (T, T) map and its heads' pooled thumbnails (L, H, s, s) over the window."""
    labels, starts, first, stop = view_frame(tokens, view)
    normalisation = ("attention weights as computed: each query's row sums to 1 over all earlier tokens; the window "
                     "shows part of each row") if view.granularity == "token" else (
        "words: weights summed over a key word's tokens and averaged over a query word's tokens; each query's row "
        "sums to 1 over all earlier words; the window shows part of each row")
    return AttentionView(
        aggregation=view.aggregation, layer=layer, head=view.head, label=view_label(view.aggregation, layer, view.head),
        description=text_attention.AGGREGATIONS[view.aggregation],
        answer_rows=rows_as_lists(text_attention.producing_rows(matrix, range(answer_start, len(tokens)))),
        matrix=AttentionMatrix(granularity=view.granularity, start=first, labels=labels[first:stop],
                               positions=starts[first:stop],
                               values=windowed(matrix, tokens, view, first, stop).double().cpu().tolist(),
                               normalisation=normalisation),
        grid=HeadGrid(size=int(grid.shape[-1]), values=grid.round(decimals=THUMBNAIL_DECIMALS).cpu().tolist(),
                      pooling=f"each thumbnail cell is the mean weight of the query-key pairs it covers in the "
                              f"window ({stop - first} {view.granularity}s per side)"))


def thumbnails_of(tokens: list[InputToken], view: AttentionViewRequest) -> Callable[[torch.Tensor], torch.Tensor]:
    """maps (..., T, T) -> their pooled thumbnails over the view's window (..., s, s)."""
    _labels, _starts, first, stop = view_frame(tokens, view)
    return lambda maps: text_attention.pool(windowed(maps, tokens, view, first, stop), view.thumbnail)


def all_layer_maps(lm: LoadedTextModel, request: TextAttentionRequest, tokens: list[InputToken]
                   ) -> tuple[int, int, torch.Tensor, torch.Tensor, Optional[AttentionView]]:
    """(layers, heads, rollout, last layer's head mean, view) from every layer's weights at once (kept)."""
    attentions, rolled = kept_attention(lm, request.ids)
    n_layers, n_heads = attentions.shape[:2]
    view = None
    if request.view:
        layer = view_layer(n_layers, n_heads, request.view)
        matrix = text_attention.view_matrix(attentions, request.view.aggregation, layer, request.view.head, rolled)
        view = assemble_view(request.view, layer, matrix, thumbnails_of(tokens, request.view)(attentions), tokens,
                             request.answer_start)
        if request.view.every_map_position is not None:
            view.every_map = every_map(attentions, rolled, tokens, request.view)
    return n_layers, n_heads, rolled, attentions[-1].mean(dim=0), view


def layer_by_layer_maps(lm: LoadedTextModel, request: TextAttentionRequest, tokens: list[InputToken]
                        ) -> tuple[int, int, torch.Tensor, torch.Tensor, Optional[AttentionView]]:
    """The same as all_layer_maps, folded one layer at a time (backend.text.attention_stream; not kept)."""
    config, view = lm.model.config, request.view
    n_layers, n_heads = int(config.num_hidden_layers), int(config.num_attention_heads)
    layer = view_layer(n_layers, n_heads, view) if view else 0
    folded = folded_attention(lm, request.ids, view.aggregation if view else None, layer, view.head if view else 0,
                              thumbnails_of(tokens, view) if view else None)
    if view and view.every_map_position is not None:
        raise UserInputError(f"every map at once is for sequences whose weights fit at once; this one has "
                             f"{len(request.ids)} tokens: switch maps one at a time (leave every_map_position unset)")
    shown = assemble_view(view, layer, folded.matrix, folded.grid, tokens, request.answer_start) if view else None
    return n_layers, n_heads, folded.rollout, folded.last_head_mean, shown


def summary_map(lm: LoadedTextModel, ids: Sequence[int], source: str) -> torch.Tensor:
    """(T, T) the rollout ("rollout") or the last layer's head mean ("last_layer") of ids, from the kept weights
    when every layer's fit the budget, else folded one layer at a time."""
    if fits_at_once(lm, len(ids)):
        attentions, rolled = kept_attention(lm, ids)
        return rolled if source == "rollout" else attentions[-1].mean(dim=0)
    folded = folded_attention(lm, ids)
    return folded.rollout if source == "rollout" else folded.last_head_mean


def attention_maps(lm: LoadedTextModel, request: TextAttentionRequest) -> TextAttention:
    """Attention of the analysed ids: the answer rows of the rollout and of the last layer's head mean, and the
    requested view; every layer's weights at once (kept for the next view) while they fit ATTENTION_BUDGET_BYTES,
    else one layer at a time."""
    started = time.perf_counter()
    check_ids(lm, request.ids)
    tokens = input_tokens(lm, request.ids, request.answer_start)
    maps = all_layer_maps if fits_at_once(lm, len(request.ids)) else layer_by_layer_maps
    n_layers, n_heads, rolled, last_mean, view = maps(lm, request, tokens)
    answer = range(request.answer_start, len(request.ids))
    return TextAttention(
        model=lm.spec.id, n_layers=n_layers, n_heads=n_heads, answer_start=request.answer_start, tokens=tokens,
        rows=ROWS_NOTE, rollout=rows_as_lists(text_attention.producing_rows(rolled, answer)),
        last_layer_head_mean=rows_as_lists(text_attention.producing_rows(last_mean, answer)), view=view,
        seconds=time.perf_counter() - started)
