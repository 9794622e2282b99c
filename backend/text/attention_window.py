"""The window of an attention view: its units (tokens or words), where it starts and stops, and a map cut to it
(grouped into words when the view asks). Pure functions; maps are (..., T, T) tensors over the sequence."""
from __future__ import annotations

import torch

from backend.analyses import text_attention
from backend.analyses.words import word_spans, word_texts
from backend.schemas.text_attention import AttentionViewRequest, InputToken


def window_units(tokens: list[InputToken], view: AttentionViewRequest) -> tuple[list[str], list[int]]:
    """(label, first token position) of each unit (token or word) of the chosen granularity."""
    if view.granularity == "token":
        return [t.text for t in tokens], [t.position for t in tokens]
    word_of = [t.word for t in tokens]
    return word_texts([t.text for t in tokens], word_of), [first for first, _ in word_spans(word_of)]


def windowed(maps: torch.Tensor, tokens: list[InputToken], view: AttentionViewRequest, first: int,
             stop: int) -> torch.Tensor:
    """(..., n, n) the window of units first..stop-1 of maps (..., T, T), grouped into words when asked.

    The window is cut at token level first (a word window is a token window that starts and ends on word
    boundaries), so only the window's part of each map is ever aggregated.
    """
    lo, hi = token_span(tokens, view, first, stop)
    return grouped(text_attention.window(maps, lo, hi), tokens[lo:hi], view)


def token_span(tokens: list[InputToken], view: AttentionViewRequest, first: int, stop: int) -> tuple[int, int]:
    """(lo, hi): the token positions lo..hi-1 that units first..stop-1 of the view's granularity cover."""
    if view.granularity == "token":
        return first, stop
    spans = word_spans([t.word for t in tokens])
    return spans[first][0], spans[stop - 1][1]


def grouped(block: torch.Tensor, span: list[InputToken], view: AttentionViewRequest) -> torch.Tensor:
    """(..., n, n): a token window (..., m, m) over the tokens `span`, grouped into words when the view asks."""
    if view.granularity == "token":
        return block
    return text_attention.aggregate_to_words(block, [t.word - span[0].word for t in span])


def view_label(aggregation: str, layer: int, head: int) -> str:
    """A short name of the map, 1-based as people count layers and heads."""
    return {"head": f"layer {layer + 1}, head {head + 1}", "head_mean": f"layer {layer + 1}, mean of heads",
            "layer_mean": "mean of all layers and heads", "rollout": "attention rollout"}[aggregation]


def view_frame(tokens: list[InputToken], view: AttentionViewRequest) -> tuple[list[str], list[int], int, int]:
    """(unit labels, unit first positions, first, stop): the units of the view's granularity and its window."""
    labels, starts = window_units(tokens, view)
    last_start = max(0, len(labels) - view.window_size)
    first = last_start if view.window_start is None else min(view.window_start, last_start)
    return labels, starts, first, min(len(labels), first + view.window_size)
