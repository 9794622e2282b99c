"""A shared forward over the leading positions an integrated-gradients path leaves unchanged.

Where the baseline equals the input on the first k positions (the chat template's system turn and the user turn's
opening tokens, which the content baselines keep), every point of the path x' + a (x - x') has the same first k
embeddings; in a causal LM their hidden states, and so their keys and values, are the same at every point. They
are run once without gradients and every path point runs positions k.. only, attending to those cached keys and
values. Their attributions are exactly 0 ((x - x') is 0 there), so nothing is lost; the gradients of the other
positions are those of the full forward.
"""
from __future__ import annotations

from typing import Callable

import torch
from transformers import DynamicCache

LogitsFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def unchanged_prefix(embeddings: torch.Tensor, baseline: torch.Tensor, limit: int) -> int:
    """How many leading positions, at most `limit`, have the same embedding in the input and the baseline (both
    (T, D))."""
    same = (embeddings[:limit] == baseline[:limit]).all(dim=-1)
    changed = (~same).nonzero()
    return int(changed[0, 0]) if changed.numel() else int(same.shape[0])


def cached_prefix_logits(model: torch.nn.Module, prefix: torch.Tensor) -> LogitsFn:
    """logits(x, rows) -> (B, len(rows), V) of a causal LM over the sequence prefix + x, x: (B, S, D) the
    embeddings after the prefix, rows: (N,) positions counted from the first position of x (>= 0).

    prefix: (k, D) embeddings, run once here without gradients; each call attends to their keys and values
    (copied to the batch, as the model's cache appends to them)."""
    with torch.no_grad():
        cache = model(inputs_embeds=prefix[None], use_cache=True).past_key_values
    layers = [(layer.keys, layer.values) for layer in cache.layers]
    length = prefix.shape[0]

    def logits(x: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        batch = x.shape[0]
        past = DynamicCache(config=model.config)
        for index, (keys, values) in enumerate(layers):
            past.update(keys.expand(batch, -1, -1, -1), values.expand(batch, -1, -1, -1), index)
        mask = torch.ones(batch, length + x.shape[1], dtype=torch.long, device=x.device)
        return model(inputs_embeds=x, attention_mask=mask, past_key_values=past, use_cache=True,
                     logits_to_keep=rows).logits
    return logits
