"""The Imported logs page's link to the backend: one import, cached by the exact request."""
from __future__ import annotations

import streamlit as st

from app.services import get_client
from backend.schemas.imports import ImportRequest, ImportResult


@st.cache_data(show_spinner=False, max_entries=16)
def import_logs(request_json: str) -> ImportResult:
    """The file's groups analysed and scored (reruns and clicks do not recompute)."""
    return get_client().import_logs(ImportRequest.model_validate_json(request_json))
