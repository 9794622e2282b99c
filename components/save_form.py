"""A form to save the analysis on screen with a title, notes and tags (idempotent: one id per analysis).

The form and its fields are keyed by the analysis they belong to: a new analysis gets a new form showing its own
defaults, so a title or notes typed for one analysis (saved or not) are never stored with another.
"""
from __future__ import annotations

import hashlib
import uuid
from typing import Callable, Optional, Union

import streamlit as st

from backend.schemas.store import MAX_TITLE_CHARS, SavedItem, SaveRequest
from components.errors import EXPECTED_ERRORS, show_error
from components.saved_link import render_saved_link


def parse_tags(text: str) -> list[str]:
    """Comma- or newline-separated tags, trimmed, empty ones dropped."""
    return [tag.strip() for tag in text.replace("\n", ",").split(",") if tag.strip()]


def analysis_digest(content_key: str) -> str:
    """The identity of one analysis: 16 hex characters of the SHA-256 of its content key (e.g. its request)."""
    return hashlib.sha256(content_key.encode()).hexdigest()[:16]


def save_id_for(content_key: str) -> str:
    """A stable id for one analysis within this session, so a double click or a retry never saves twice."""
    ids = st.session_state.setdefault("save_ids", {})
    return ids.setdefault(analysis_digest(content_key), str(uuid.uuid4()))


def field_key(key: str, content_key: str, name: str) -> str:
    """The widget key of one field (title, notes, tags) of the form of one analysis: a new analysis gets new
    widgets, so nothing typed for another analysis (saved or not) is kept in them."""
    return f"{key}_save_{analysis_digest(content_key)}_{name}"


def render_save_form(*, key: str, kind: str, model: str, default_title: str,
                     payload: Union[dict, Callable[[], dict]], request: Optional[dict], content_key: str,
                     save: Callable[[SaveRequest], SavedItem], form_key: Optional[str] = None) -> None:
    """An expander with the form for the analysis identified by `content_key`; says where the item went, or what
    to change. `payload` may be a function, called only when Save is pressed (for results that are costly to
    gather). form_key (default content_key): what the form and its fields are keyed by, when a view changes in
    the browser within one analysis (an attention map): a title typed stays while the view changes, and the
    item saved is the view shown when Save is pressed (its id from content_key)."""
    fields = content_key if form_key is None else form_key
    with st.expander("Save this analysis"):
        with st.form(f"{key}_save_form_{analysis_digest(fields)}"):
            title = st.text_input("Title", value=default_title.strip()[:MAX_TITLE_CHARS], max_chars=MAX_TITLE_CHARS,
                                  key=field_key(key, fields, "title"))
            notes = st.text_area("Notes", key=field_key(key, fields, "notes"), height=80,
                                 placeholder="What did you notice? (kept with the analysis)")
            tags = st.text_input("Tags", key=field_key(key, fields, "tags"),
                                 placeholder="comma-separated, e.g. geography, demo")
            submitted = st.form_submit_button("Save")
        if not submitted:
            return
        try:
            item = save(SaveRequest(id=save_id_for(content_key), kind=kind, title=title, notes=notes,
                                    tags=parse_tags(tags), model=model,
                                    payload=payload() if callable(payload) else payload, request=request))
        except EXPECTED_ERRORS as exc:
            show_error(exc, kept="Not saved: your title, notes and tags are still in the form; press Save again.")
            return
        st.success(f"Saved as “{item.title}” ({item.created_at} UTC). Find it on the Saved page.")
        render_saved_link(item.id, kind=kind)
