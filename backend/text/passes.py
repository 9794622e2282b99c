"""Forward passes and generation whose memory grows linearly in tokens, and that stop when the budget says so.

A sequence of up to SINGLE_PASS_TOKENS tokens is scored by one forward pass, exactly as a direct transformers
forward. A longer one is fed in chunks of CHUNK_TOKENS positions through the key-value cache, so no (T, V) logits
and no (heads, T, T) attention weights of the whole sequence are ever held: the peak is the cache (linear in T)
plus one chunk's logits and attention rows. Chunked logits equal the single pass up to float summation order.
Every chunk and every generated token is a budget checkpoint (backend.budget).
"""
from __future__ import annotations

from typing import Callable, Optional

import torch
from transformers import DynamicCache, StoppingCriteria, StoppingCriteriaList

from backend.budget import checkpoint
from backend.models.text_loader import LoadedTextModel
from backend.streaming import current_stream

SINGLE_PASS_TOKENS = 512
CHUNK_TOKENS = 256
RowsCallback = Callable[[int, torch.Tensor], None]


class BudgetCheckpoint(StoppingCriteria):
    """A generate stopping criterion that reports the tokens made so far and raises (through
    backend.budget.checkpoint) when the request was cancelled or ran past its deadline; under a live stream
    (backend.streaming) it hands each new token to the stream and stops generation (keeping the tokens made) when
    the stream's reader asked to finish."""

    def __init__(self, prompt_length: int, max_new_tokens: int) -> None:
        self.prompt_length = prompt_length
        self.max_new_tokens = max_new_tokens

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs) -> torch.Tensor:
        checkpoint("tokens", input_ids.shape[1] - self.prompt_length, self.max_new_tokens)
        stream = current_stream()
        finish = stream is not None and stream.step(input_ids)
        return torch.full((input_ids.shape[0],), finish, dtype=torch.bool, device=input_ids.device)


def budget_criteria(prompt_length: int, max_new_tokens: int) -> StoppingCriteriaList:
    """The stopping criteria list every generate call of UQ Lens passes (progress + Stop + deadline)."""
    return StoppingCriteriaList([BudgetCheckpoint(prompt_length, max_new_tokens)])


def forward_chunks(lm: LoadedTextModel, ids: list[int], on_rows: RowsCallback,
                   cache: Optional[DynamicCache] = None) -> DynamicCache:
    """Feed ids (L,) through the model in chunks, calling on_rows(start, logits) for each chunk.

    logits: (n, V) float32 raw logits of positions start..start+n-1 (row t predicts ids[start + t + 1]).
    Sequences of at most SINGLE_PASS_TOKENS go in one pass. Returns the filled key-value cache (L positions),
    which generate can continue from.
    """
    cache = cache if cache is not None else DynamicCache()
    step = len(ids) if len(ids) <= SINGLE_PASS_TOKENS else CHUNK_TOKENS
    with torch.inference_mode():
        for start in range(0, len(ids), step):
            stop = min(len(ids), start + step)
            chunk = torch.tensor([ids[start:stop]], device=lm.device)
            out = lm.model(input_ids=chunk, attention_mask=torch.ones(1, stop, dtype=torch.long, device=lm.device),
                           past_key_values=cache, use_cache=True)
            on_rows(start, out.logits[0].float())
            del out
            checkpoint("prompt", stop, len(ids))
    return cache


def prefill(lm: LoadedTextModel, ids: list[int], on_rows: Optional[RowsCallback] = None) -> DynamicCache:
    """The key-value cache of ids[:-1] (so generate still has the last id to feed), with on_rows called on the
    logits of those positions as in forward_chunks. ids must hold at least one id."""
    return forward_chunks(lm, ids[:-1], on_rows or (lambda _start, _logits: None))
