"""The app's link to the backend: one client per server process, results cached by request."""
from __future__ import annotations

import os
from typing import Optional

import streamlit as st

from backend.clients import Client, HttpClient, LocalClient
from backend.schemas import DEFAULT_IMAGE_MODEL, DEFAULT_TEXT_MODEL, ModelInfo, TextAnalysis, TextRequest
from components.errors import TRANSIENT_ERRORS, show_error

DEFAULT_MODEL_OF_KIND = {"text": DEFAULT_TEXT_MODEL, "image": DEFAULT_IMAGE_MODEL}
NEEDS_IN_PROCESS = ("attention and saliency need a model loaded in UQ Lens's process; served models give "
                    "log-probabilities only")


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


def model_info(model_id: str) -> Optional[ModelInfo]:
    """A registered model's entry (its engine and capabilities); None when it is unknown or the backend cannot be
    asked now (a page then offers every method; the backend still refuses what the model cannot give)."""
    try:
        return next((m for m in list_models() if m.id == model_id), None)
    except TRANSIENT_ERRORS:
        return None


def is_served(info: Optional[ModelInfo]) -> bool:
    """Whether the model runs behind a serving engine (not in UQ Lens's process)."""
    return info is not None and info.engine != "in-process"


def model_ids(kind: str, *, needs: str = "", why: str = "") -> list[str]:
    """Registered model ids of one kind ("text" or "image"), for a model box; the kind's default alone, with a
    warning, when the backend cannot be asked. With `needs` (a capability, e.g. "attention"), the models without
    it (served ones) are left out, and a caption names them and says `why`."""
    try:
        models = [m for m in list_models() if m.kind == kind]
    except TRANSIENT_ERRORS as exc:
        show_error(exc, kept="Only the default model is offered until it does.")
        models = []
    left_out = [m.id for m in models if needs and needs not in m.capabilities]
    if left_out:
        st.caption(f"Not offered here: {', '.join(left_out)} ({why}).")
    return [m.id for m in models if m.id not in left_out] or [DEFAULT_MODEL_OF_KIND[kind]]


def default_model_index(ids: list[str], kind: str) -> int:
    """Where the kind's default model stands in ids (0 when it is not among them)."""
    default = DEFAULT_MODEL_OF_KIND[kind]
    return ids.index(default) if default in ids else 0


@st.cache_data(show_spinner=False, max_entries=64)
def analyze_text(request_json: str) -> TextAnalysis:
    """A text analysis, cached by the exact request (so reruns and clicks do not recompute)."""
    return get_client().analyze_text(TextRequest.model_validate_json(request_json))
