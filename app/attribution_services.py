"""The Attention & saliency page's link to the backend: attention views, saliency and its metadata, cached by the
exact request so reruns, clicks and going back to an earlier view do not recompute."""
from __future__ import annotations

from typing import Sequence

import streamlit as st

from app.services import get_client
from backend.schemas.text_attention import TextAttention, TextAttentionRequest
from backend.schemas.text_saliency import SaliencyCatalog, TextSaliency, TextSaliencyRequest


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
