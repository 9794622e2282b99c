"""The address that reopens one saved analysis: the Saved page with the item's id (and the view) in the URL.

It works on any UQ Lens that reads the same store (the same UQLENS_DATABASE_URL, e.g. a shared PostgreSQL, or the
same backend, UQLENS_BACKEND_URL), or on another machine once the item's export is imported there (the Saved
page's import keeps the id).
"""
from __future__ import annotations

from typing import Optional
from urllib.parse import urlencode, urlsplit, urlunsplit

import streamlit as st

SAVED_PATH = "saved"
ID_PARAMETER = "id"
VIEW_PARAMETER = "view"
PRESENT = "present"


def app_base_path(page_path: str) -> str:
    """The app's own path from a page's path: '/text' -> '', '/uq/text' -> '/uq', '/' (the home page) -> ''."""
    if page_path.endswith("/"):
        return page_path.rstrip("/")
    return page_path.rsplit("/", 1)[0]


def saved_item_url(page_url: Optional[str], item_id: str, *, present: bool = False) -> str:
    """The Saved page's address reopening `item_id` (with `view=present`: in the presenter view), on the UQ Lens
    that serves `page_url` (the address of any of its pages, without query); a relative address when it is
    unknown (no browser, as in AppTest)."""
    query = urlencode({ID_PARAMETER: item_id, **({VIEW_PARAMETER: PRESENT} if present else {})})
    if not page_url:
        return f"{SAVED_PATH}?{query}"
    parts = urlsplit(page_url)
    return urlunsplit((parts.scheme, parts.netloc, f"{app_base_path(parts.path)}/{SAVED_PATH}", query, ""))


def render_saved_link(item_id: str, *, kind: str) -> None:
    """The link to the saved item, copyable; for a text analysis also the presenter view's."""
    st.caption("Link that reopens it (here, on any UQ Lens sharing this store, or where its export is imported):")
    st.code(saved_item_url(st.context.url, item_id), language=None)
    if kind == "text":
        st.caption("In the presenter view:")
        st.code(saved_item_url(st.context.url, item_id, present=True), language=None)
