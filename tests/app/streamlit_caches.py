"""Streamlit caches cleared around AppTest page tests that change the environment."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator


@contextmanager
def fresh_streamlit_caches() -> Iterator[None]:
    """Clear Streamlit's resource and data caches before and after the block, so a client or result cached under
    other settings (another backend URL, other registered models) neither leaks in nor out."""
    import streamlit as st

    st.cache_resource.clear()
    st.cache_data.clear()
    try:
        yield
    finally:
        st.cache_resource.clear()
        st.cache_data.clear()
