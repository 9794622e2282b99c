"""The Sequence uncertainty page's link to the backend: method metadata, cost estimates and analyses, cached."""
from __future__ import annotations

import streamlit as st

from app.services import get_client
from backend.schemas import MethodCost, MethodInfo, SequenceAnalysis, SequenceRequest


@st.cache_data(show_spinner=False, ttl=3600)
def sequence_methods() -> list[MethodInfo]:
    """Every sequence method with its metadata (the page builds its controls from it)."""
    return get_client().sequence_methods()


@st.cache_data(show_spinner=False, max_entries=128)
def estimate_cost(request_json: str) -> list[MethodCost]:
    """Passes and estimated seconds of a request (the backend times one pass per model and batch size, once)."""
    return get_client().estimate_sequence_cost(SequenceRequest.model_validate_json(request_json))


@st.cache_data(show_spinner=False, max_entries=32)
def analyze_sequence(request_json: str) -> SequenceAnalysis:
    """A sequence analysis, cached by the exact request (reruns and clicks do not recompute)."""
    return get_client().analyze_sequence(SequenceRequest.model_validate_json(request_json))
