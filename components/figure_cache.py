"""Figures of a text analysis built once per content and view, not on every rerun.

Streamlit reruns a page (or a fragment) on every widget change; building a plotly figure through graph_objs
validates every property and takes tens of milliseconds per figure, the bulk of a rerun of the Text page. The
builders here are cached (st.cache_resource: the same figure object, shared across sessions, keyed by a digest of
the tokens and the view's settings); callers hand the figure to st.plotly_chart and must not change it.
"""
from __future__ import annotations

import hashlib
from typing import Optional, Sequence

import plotly.graph_objects as go
import streamlit as st

from backend.schemas import TokenScore

MAX_FIGURES = 64


def tokens_digest(tokens: Sequence[TokenScore]) -> str:
    """A digest of the tokens' whole content (text, numbers, alternatives): equal tokens give equal digests."""
    digest = hashlib.blake2b(digest_size=16)
    for token in tokens:
        digest.update(token.model_dump_json().encode())
        digest.update(b"\0")
    return digest.hexdigest()


@st.cache_resource(max_entries=MAX_FIGURES, show_spinner=False)
def heatmap_figure(digest: str, _tokens: Sequence[TokenScore], measure: str, chars_per_line: int,
                   selected: Optional[int], scale: float, client_side: bool = False) -> go.Figure:
    """components.token_heatmap.token_heatmap_figure of the tokens whose digest is `digest`."""
    from components.token_heatmap import token_heatmap_figure

    return token_heatmap_figure(_tokens, measure=measure, chars_per_line=chars_per_line, selected=selected,
                                scale=scale, client_side=client_side)


@st.cache_resource(max_entries=MAX_FIGURES, show_spinner=False)
def curve_figure(digest: str, _tokens: Sequence[TokenScore], selected: Optional[int], scale: float) -> go.Figure:
    """components.token_curve.token_curve_figure of the tokens whose digest is `digest`."""
    from components.token_curve import token_curve_figure

    return token_curve_figure(_tokens, selected=selected, scale=scale)
