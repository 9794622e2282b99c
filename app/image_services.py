"""The Image page's backend calls, cached by the exact request JSON (so sliders and reruns do not recompute)."""
from __future__ import annotations

import streamlit as st

from app.services import get_client
from backend.schemas.image import (ImageAnalysis, ImageMethods, ImageRequest, ImageUncertainty, SaliencyAnalysis,
                                   SaliencyRequest, UncertaintyRequest)


@st.cache_data(show_spinner=False, ttl=3600)
def image_methods(model: str) -> ImageMethods:
    """The methods that apply to an image model (loads it on first use)."""
    return get_client().image_methods(model)


@st.cache_data(show_spinner=False, max_entries=32)
def analyze_image(request_json: str) -> ImageAnalysis:
    """Prediction for one image."""
    return get_client().analyze_image(ImageRequest.model_validate_json(request_json))


@st.cache_data(show_spinner=False, max_entries=32)
def image_uncertainty(request_json: str) -> ImageUncertainty:
    """K stochastic passes of one method."""
    return get_client().image_uncertainty(UncertaintyRequest.model_validate_json(request_json))


@st.cache_data(show_spinner=False, max_entries=16)
def image_saliency(request_json: str) -> SaliencyAnalysis:
    """Saliency maps of one target."""
    return get_client().image_saliency(SaliencyRequest.model_validate_json(request_json))
