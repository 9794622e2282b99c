"""A form to save the analysis on screen with a title, notes and tags (idempotent: one id per analysis)."""
from __future__ import annotations

import uuid
from typing import Callable, Optional

import streamlit as st
from pydantic import ValidationError

from backend.errors import BackendBusyError, BackendUnavailableError, SaveConflictError
from backend.schemas.store import SavedItem, SaveRequest


def parse_tags(text: str) -> list[str]:
    """Comma- or newline-separated tags, trimmed, empty ones dropped."""
    return [tag.strip() for tag in text.replace("\n", ",").split(",") if tag.strip()]


def save_id_for(content_key: str) -> str:
    """A stable id for one analysis within this session, so a double click or a retry never saves twice."""
    ids = st.session_state.setdefault("save_ids", {})
    return ids.setdefault(content_key, str(uuid.uuid4()))


def render_save_form(*, key: str, kind: str, model: str, default_title: str, payload: dict,
                     request: Optional[dict], content_key: str, save: Callable[[SaveRequest], SavedItem]) -> None:
    """An expander with the form; says where the item went, or what to change."""
    with st.expander("Save this analysis"):
        with st.form(f"{key}_save_form"):
            title = st.text_input("Title", value=default_title[:200], max_chars=200, key=f"{key}_save_title")
            notes = st.text_area("Notes", key=f"{key}_save_notes", height=80,
                                 placeholder="What did you notice? (kept with the analysis)")
            tags = st.text_input("Tags", key=f"{key}_save_tags", placeholder="comma-separated, e.g. geography, demo")
            submitted = st.form_submit_button("Save")
        if not submitted:
            return
        try:
            item = save(SaveRequest(id=save_id_for(content_key), kind=kind, title=title, notes=notes,
                                    tags=parse_tags(tags), model=model, payload=payload, request=request))
        except ValidationError as exc:
            for error in exc.errors():
                st.error(f"{'.'.join(map(str, error['loc']))}: {str(error['msg']).removeprefix('Value error, ')}")
            return
        except SaveConflictError as exc:
            st.error(str(exc))
            return
        except (BackendBusyError, BackendUnavailableError) as exc:
            st.warning(f"Not saved: {exc}. Your title, notes and tags are still in the form; press Save again.")
            return
        st.success(f"Saved as “{item.title}” ({item.created_at} UTC). Find it on the Saved page.")
