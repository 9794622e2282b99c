"""The Attention & saliency page's link to the backend: attention views, saliency and its metadata, cached by the
exact request so reruns, clicks and going back to an earlier view do not recompute."""
from __future__ import annotations

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
