"""The presenter view of a text analysis: for a class or a room, the prompt in large type, the heatmap and the
curve, nothing else. A click on a token marks it on the curve, as on the Text page."""
from __future__ import annotations

import streamlit as st

from backend.schemas import TextAnalysis
from components.text_analysis_view import render_selectable_heatmap
from components.text_safety import markdown_literal
from components.token_curve import render_token_curve

HEATMAP_SCALE = 2.0  # type and line height against the page's: 30 px type reads from the back of a room
CURVE_SCALE = 1.6
CHARS_PER_LINE = 40  # at twice the type size, about the page's width


def render_presenter_view(result: TextAnalysis, *, key: str) -> None:
    """The prompt, the answer's heatmap (coloured by the measure picked) and the curve; the selected token lives in
    st.session_state[f"{key}_selected"], shared with the full view."""
    st.header(markdown_literal(result.prompt.strip()) or "(no prompt)")
    _, selected = render_selectable_heatmap(result, key=key, heatmap_key=f"{key}_present",
                                            chars_per_line=CHARS_PER_LINE, scale=HEATMAP_SCALE)
    render_token_curve(result.tokens, key=f"{key}_present", selected=selected, scale=CURVE_SCALE)
