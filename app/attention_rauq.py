"""The Attention page's RAUQ marker: under the head grid, which head RAUQ selects in the layer shown (one
Sequence-page analysis of the same request with methods=["rauq"], cached by its request, on demand)."""
from __future__ import annotations

from typing import Callable, Optional

import streamlit as st

from app.sequence_services import analyze_sequence
from backend.schemas import SequenceRequest, TextRequest
from components.attention_uq_view import rauq_head_note, selected_heads
from components.errors import EXPECTED_ERRORS, show_error


def rauq_marker(text_request_json: str, *, key: str) -> Optional[Callable[[int], str]]:
    """A toggle; when on, the caption of a 0-based layer: "RAUQ's head for layer L: head h", or the layers RAUQ
    reads when it does not read that one, and RAUQ's value on this answer. None when off or not computed."""
    if not st.toggle("Mark RAUQ's heads", key=f"{key}_rauq_marker",
                     help="RAUQ (Sequence page) picks, in each middle layer, the head with the largest mean attention "
                          "to the previous token over the answer"):
        return None
    request = SequenceRequest(text=TextRequest.model_validate_json(text_request_json), methods=["rauq"])
    try:
        with st.spinner("Running RAUQ on this answer…"):
            score = analyze_sequence(request.model_dump_json()).scores[0]
    except EXPECTED_ERRORS as exc:
        show_error(exc)
        return None
    if score.value is None:
        st.warning(score.details.get("error", "RAUQ could not be computed"))
        return None
    layers = sorted(selected_heads(score.details))
    value = f" RAUQ on this answer: {score.value:.3f} (worst layer {int(score.details['layer']) + 1})."

    def caption(layer: int) -> str:
        note = rauq_head_note(score.details, layer)
        return (note + "." if note else f"RAUQ reads layers {layers[0] + 1}–{layers[-1] + 1} only.") + value

    return caption
