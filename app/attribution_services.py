"""The Attention & saliency page's link to the backend: attention views, saliency and its metadata, cached by the
exact request so reruns, clicks and going back to an earlier view do not recompute."""
from __future__ import annotations

from typing import Optional, Sequence

import streamlit as st

from app.services import get_client
from backend.schemas.text import TokenScore
from backend.schemas.text_attention import TextAttention, TextAttentionRequest
from backend.schemas.text_saliency import SaliencyCatalog, SaliencyRow, TextSaliency, TextSaliencyRequest

DELTA_WARNING = 0.05


@st.cache_data(show_spinner=False, ttl=3600)
def saliency_catalog() -> SaliencyCatalog:
    """Saliency methods, targets and normalisations with their metadata (the page builds its controls from it)."""
    return get_client().text_saliency_catalog()


@st.cache_data(show_spinner=False, max_entries=32)
def text_attention(request_json: str) -> TextAttention:
    """One attention view of an analysed sequence."""
    return get_client().text_attention(TextAttentionRequest.model_validate_json(request_json))


@st.cache_data(show_spinner=False, max_entries=32)
def text_saliency(request_json: str) -> TextSaliency:
    """Saliency rows of an analysed sequence."""
    return get_client().text_saliency(TextSaliencyRequest.model_validate_json(request_json))


def is_content(token: TokenScore) -> bool:
    """Whether an answer token is part of what the answer says: not a special token (end of turn) and not
    whitespace only."""
    return not token.special and bool(token.text.strip())


def default_token(tokens: Sequence[TokenScore]) -> int:
    """Index of the answer token explained first: the most uncertain (highest entropy, nats) content token; the
    most uncertain token of all when the answer has no content token. tokens: the answer's, at least one."""
    if not tokens:
        raise ValueError("an empty answer has no token to explain")
    candidates = [i for i, t in enumerate(tokens) if is_content(t)] or list(range(len(tokens)))
    return max(candidates, key=lambda i: tokens[i].entropy)


def relative_delta(row: SaliencyRow) -> Optional[float]:
    """|convergence delta| / |target at the input - target at the baseline|: the share of the target's change the
    scores fail to account for (0 = exact). None without a delta, or when the target did not change."""
    if row.convergence_delta is None or row.target_value is None or row.baseline_value is None:
        return None
    change = abs(row.target_value - row.baseline_value)
    return abs(row.convergence_delta) / change if change > 0 else None


def with_more_steps(request: TextSaliencyRequest, steps: int, maximum: int) -> TextSaliencyRequest:
    """The request with twice the `steps` it ran with (at most `maximum`); everything else unchanged."""
    return request.model_copy(update={"parameters": {**request.parameters, "steps": min(maximum, 2 * steps)}})


def position_chunks(positions: Sequence[int], size: int) -> list[list[int]]:
    """Answer positions in consecutive groups of at most `size` (one request each, so the page can show
    progress): ([5, 6, 7, 8, 9], 2) -> [[5, 6], [7, 8], [9]]."""
    if size < 1:
        raise ValueError(f"chunk size must be at least 1, got {size}")
    return [list(positions[i:i + size]) for i in range(0, len(positions), size)]


def merge_saliency(parts: Sequence[TextSaliency]) -> TextSaliency:
    """One result from the results of consecutive position chunks of the same request: rows concatenated, passes
    and seconds summed (rows are normalised one by one, so merging changes no score)."""
    if not parts:
        raise ValueError("nothing to merge: no saliency results")
    return parts[0].model_copy(update=dict(
        rows=[row for part in parts for row in part.rows],
        forward_sequences=sum(p.forward_sequences for p in parts),
        backward_passes=sum(p.backward_passes for p in parts),
        seconds=sum(p.seconds for p in parts)))
