"""The Side by side page's link to the backend: comparisons, cached by the exact request."""
from __future__ import annotations

import streamlit as st

from app.services import get_client
from backend.schemas.compare import TextComparison, TextComparisonRequest


@st.cache_data(show_spinner=False, max_entries=32)
def compare_text(request_json: str) -> TextComparison:
    """Both answers and their cross-scores (reruns and clicks do not recompute)."""
    return get_client().compare_text(TextComparisonRequest.model_validate_json(request_json))
