"""The app's link to the backend: one client per server process, results cached by request."""
from __future__ import annotations

import os

import streamlit as st

from backend.client import Client, LocalClient
from backend.http_client import HttpClient
from backend.schemas import ModelInfo, TextAnalysis, TextRequest


@st.cache_resource(show_spinner=False)
def get_client() -> Client:
    """HttpClient when UQLENS_BACKEND_URL names a backend service (token from UQLENS_API_TOKEN), else the
    in-process client (models load on first use and stay loaded)."""
    url = os.environ.get("UQLENS_BACKEND_URL", "").strip()
    if url:
        return HttpClient(url, token=os.environ.get("UQLENS_API_TOKEN") or None)
    return LocalClient()


@st.cache_data(show_spinner=False, ttl=3600)
def list_models() -> list[ModelInfo]:
    """Registered models, as the client reports them."""
    return get_client().models()


@st.cache_data(show_spinner=False, max_entries=64)
def analyze_text(request_json: str) -> TextAnalysis:
    """A text analysis, cached by the exact request (so reruns and clicks do not recompute)."""
    return get_client().analyze_text(TextRequest.model_validate_json(request_json))
