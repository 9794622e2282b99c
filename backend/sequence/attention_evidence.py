"""Reading the attention pieces RAUQ and UQAC need from an in-process model, chunk by chunk.

The prompt (all but its last token) is fed through the key-value cache without attention weights; the answer's
producing rows (the prompt's last position to the answer's second-to-last) are then fed in chunks of n queries with
eager attention, so at most (L, H, n, S) weights are held at once (S <= the sequence length), with n chosen so that
block stays under BLOCK_BYTES: memory is the cache (linear in the length) plus that block. From each block only
the previous-token weights (RAUQ) and UQAC's reduced rows' strongest keys are kept: O(L H T) in all.
"""
from __future__ import annotations

import numpy as np
import torch
from transformers import DynamicCache

from backend.analyses.attention_uq import AttentionEvidence, TOP_KEYS, reduce_rows, strongest_keys
from backend.budget import checkpoint
from backend.errors import UserInputError
from backend.models.text_loader import LoadedTextModel
from backend.text.passes import CHUNK_TOKENS

BLOCK_BYTES = 128 << 20


def content_mask(lm: LoadedTextModel, answer_ids: list[int]) -> np.ndarray:
    """(T,) whether each answer token may join an attention chain: not special, and with a letter or digit."""
    special = set(lm.tokenizer.all_special_ids)
    return np.array([i not in special and any(ch.isalnum() for ch in lm.tokenizer.decode([i])) for i in answer_ids])


def _feed(lm: LoadedTextModel, ids: list[int], start: int, cache: DynamicCache, attentions: bool):
    chunk = torch.tensor([ids], device=lm.device)
    mask = torch.ones(1, start + len(ids), dtype=torch.long, device=lm.device)
    return lm.model(input_ids=chunk, attention_mask=mask, past_key_values=cache, use_cache=True,
                    output_attentions=attentions)


def attention_evidence(lm: LoadedTextModel, ids: list[int], answer_start: int,
                       block_bytes: int = BLOCK_BYTES) -> AttentionEvidence:
    """RAUQ's and UQAC's attention evidence of the answer ids[answer_start:] (T >= 1 tokens after a prompt of at
    least one token), read in chunks (see the module doc); the caller holds the model's lock."""
    config = lm.model.config
    n_layers, n_heads = int(config.num_hidden_layers), int(config.num_attention_heads)
    total, t = len(ids), len(ids) - answer_start
    if answer_start < 1 or t < 1:
        raise UserInputError("attention uncertainty needs a prompt and an answer of at least one token each")
    first_row = answer_start - 1
    per_query = n_layers * n_heads * total * 4
    step = max(1, min(CHUNK_TOKENS, block_bytes // per_query))
    prev = np.zeros((n_layers, n_heads, t - 1))
    keys = np.full((t, TOP_KEYS), -1, dtype=np.int64)
    weights = np.zeros((t, TOP_KEYS))
    cache, peak = DynamicCache(), 0
    with torch.inference_mode():
        for start in range(0, first_row, CHUNK_TOKENS):
            stop = min(first_row, start + CHUNK_TOKENS)
            del _feed(lm, ids[start:stop], start, cache, False).logits
            checkpoint("prompt", stop, first_row)
        for start in range(first_row, total - 1, step):
            stop = min(total - 1, start + step)
            out = _feed(lm, ids[start:stop], start, cache, True)
            if not out.attentions or out.attentions[0] is None:
                raise UserInputError(f"{lm.spec.id} does not return attention weights; load it with eager attention")
            block = torch.stack([layer[0] for layer in out.attentions]).float().cpu()  # (L, H, n, stop)
            peak = max(peak, block.numel() * 4)
            del out
            own = np.arange(start, stop)
            rows = own - first_row  # answer-token index each query produces
            later = rows >= 1
            prev[:, :, rows[later] - 1] = block[:, :, np.arange(len(own))[later], own[later]].double().numpy()
            reduced = reduce_rows(block, own)
            keys[rows], weights[rows] = strongest_keys(reduced, answer_start, own)
            checkpoint("attention", stop - first_row, total - 1 - first_row)
    return AttentionEvidence(prev=prev, keys=keys, weights=weights,
                             content=content_mask(lm, ids[answer_start:]), peak_bytes=peak)
