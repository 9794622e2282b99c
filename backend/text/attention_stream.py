"""Attention maps of a sequence whose every-layer weights would not fit, folded in one layer at a time.

One forward pass with eager attention: a forward hook on each layer's attention module takes that layer's (H, T, T)
weights as the module returns them, folds them into what the views need and hands the layer's output on without
them, so one layer's weights are held at a time: stream_bytes, about (8 H + 40) x T^2 bytes at the peak, instead of
L x H x T^2 x 4 (refused beyond STREAM_BUDGET_BYTES before the pass). Folded with the functions the all-layers path
uses, so the numbers are the same: the rollout (float64, each layer multiplied in as it comes), the last layer's head
mean, the view's map (one head, one layer's head mean, the mean of every layer and head, or the rollout) and every
head's thumbnail over the view's window. The caller holds the model's lock.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

import torch

from backend.analyses.attention_rollout import rollout_step
from backend.budget import checkpoint
from backend.errors import UserInputError
from backend.models.text_loader import LoadedTextModel

STREAM_BUDGET_BYTES = 2**30
Thumbnails = Callable[[torch.Tensor], torch.Tensor]
"""One layer's weights (H, T, T) -> its heads' thumbnails over the view's window (H, s, s)."""


def stream_bytes(lm: LoadedTextModel, tokens: int) -> int:
    """Peak bytes of a folded pass over `tokens` tokens: one layer's float32 scores and weights (2 H T^2 x 4, the
    attention's own) and five float64 T x T maps (rollout, its next step, layer sum, last layer's mean, view)."""
    heads = int(lm.model.config.num_attention_heads)
    return (2 * heads * 4 + 5 * 8) * tokens * tokens


def refuse_past_budget(lm: LoadedTextModel, tokens: int, bytes_of: Callable[[LoadedTextModel, int], int],
                       budget: int, how: str = "") -> None:
    """Refuse attention maps whose bytes_of(lm, tokens) (square in the length) would pass `budget`, naming the
    longest sequence that fits; `how` follows the size in the message (" even one layer at a time")."""
    if bytes_of(lm, tokens) <= budget:
        return
    longest = math.isqrt(budget // bytes_of(lm, 1))
    raise UserInputError(f"attention maps of {tokens:,} tokens would take {bytes_of(lm, tokens) / 2**30:.1f} GiB"
                         f"{how}; {lm.spec.id} gets them for at most {longest:,} tokens here: shorten the prompt or "
                         f"the answer")


def check_stream_size(lm: LoadedTextModel, tokens: int) -> None:
    """Refuse a folded pass past STREAM_BUDGET_BYTES, naming the longest sequence that fits."""
    refuse_past_budget(lm, tokens, stream_bytes, STREAM_BUDGET_BYTES, " even one layer at a time")


def attention_modules(lm: LoadedTextModel) -> list[torch.nn.Module]:
    """Each layer's self-attention module, first layer first; UserInputError when the model's layout is not the
    decoder stack whose attention modules return their weights (layers' modules named '...self_attn')."""
    modules = [m for name, m in lm.model.named_modules() if name.endswith("self_attn")]
    if len(modules) != int(lm.model.config.num_hidden_layers):
        raise UserInputError(f"{lm.spec.id}'s attention cannot be read one layer at a time (found {len(modules)} "
                             f"attention modules for {lm.model.config.num_hidden_layers} layers); shorten the "
                             f"sequence to fit the all-layers pass")
    return modules


@dataclass
class Folded:
    """What the views need of a sequence's attention. rollout, last_head_mean, matrix: (T, T); matrix: the view's
    map (None without a view); layer_sum: the running sum of the layers' head means (layer_mean views only);
    thumbnails: each folded layer's (H, s, s), stacked by grid into (L, H, s, s) (None without a view)."""

    n_layers: int
    n_heads: int
    rollout: Optional[torch.Tensor] = None
    last_head_mean: Optional[torch.Tensor] = None
    matrix: Optional[torch.Tensor] = None
    layer_sum: Optional[torch.Tensor] = None
    thumbnails: list[torch.Tensor] = field(default_factory=list)

    @property
    def grid(self) -> Optional[torch.Tensor]:
        return torch.stack(self.thumbnails) if self.thumbnails else None


def fold_layer(folded: Folded, index: int, weights: torch.Tensor, aggregation: Optional[str], layer: int, head: int,
               thumbnails: Optional[Thumbnails]) -> None:
    """Fold layer `index`'s weights (H, T, T, float32) into `folded` (the view's aggregation, layer and head as in
    backend.analyses.text_attention.view_matrix; aggregation None: no view)."""
    folded.rollout = rollout_step(folded.rollout, weights)
    if index == folded.n_layers - 1:
        folded.last_head_mean = weights.mean(dim=0)
    if aggregation == "layer_mean":
        mean = weights.to(torch.float64).mean(dim=0)
        folded.layer_sum = mean if folded.layer_sum is None else folded.layer_sum + mean
    if index == layer and aggregation == "head":
        folded.matrix = weights[head].clone()
    if index == layer and aggregation == "head_mean":
        folded.matrix = weights.mean(dim=0)
    if thumbnails is not None:
        folded.thumbnails.append(thumbnails(weights))


def folded_attention(lm: LoadedTextModel, ids: Sequence[int], aggregation: Optional[str] = None, layer: int = 0,
                     head: int = 0, thumbnails: Optional[Thumbnails] = None) -> Folded:
    """The folded attention of one forward pass over ids (see the module docstring); a budget checkpoint after each
    layer, so the pass stops when nobody waits for it."""
    check_stream_size(lm, len(ids))
    modules = attention_modules(lm)
    config = lm.model.config
    folded = Folded(n_layers=int(config.num_hidden_layers), n_heads=int(config.num_attention_heads))

    def hook_for(index: int):
        def hook(_module, _inputs, output):
            if not isinstance(output, tuple) or len(output) < 2 or output[1] is None:
                raise UserInputError(f"{lm.spec.id} does not return attention weights; load it with eager attention")
            fold_layer(folded, index, output[1][0].float(), aggregation, layer, head, thumbnails)
            checkpoint("attention", index + 1, folded.n_layers)
            return (output[0], None, *output[2:])
        return hook

    handles = [module.register_forward_hook(hook_for(i)) for i, module in enumerate(modules)]
    try:
        with torch.inference_mode():
            tensor = torch.tensor([list(ids)], device=lm.device)
            lm.model(input_ids=tensor, attention_mask=torch.ones_like(tensor), use_cache=False, logits_to_keep=1)
    finally:
        for handle in handles:
            handle.remove()
    if aggregation == "layer_mean":
        folded.matrix = (folded.layer_sum / folded.n_layers).float()
    if aggregation == "rollout":
        folded.matrix = folded.rollout
    return folded
