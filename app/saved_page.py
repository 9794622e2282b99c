"""Saved page: find saved analyses, reopen one exactly as it was, compare two, export, import or delete.

The address `saved?id=ID` reopens one item directly (`&view=present`: a text analysis in the presenter view).
"""
from __future__ import annotations

import json
from typing import Optional

import streamlit as st

from app.services import get_client
from backend.schemas.store import SavedItem, SavedSummary
from backend.schemas.saved_exports import save_requests_from_export
from components.errors import EXPECTED_ERRORS, TRANSIENT_ERRORS, show_error
from components.presenter_view import render_presenter_view
from components.saved_compare import render_comparison
from components.saved_link import ID_PARAMETER, PRESENT, VIEW_PARAMETER, render_saved_link
from components.saved_views import kinds_present, payload_of, render_saved
from components.text_safety import markdown_literal

KEY = "saved"
KIND_LABELS = {"text": "Text", "sequence": "Sequence", "attention": "Attention & saliency", "image": "Image",
               "audit": "Audit", "comparison": "Side by side", "branches": "Text branches",
               "audit_comparison": "Audit comparison"}
SCAN_LIMIT = 500


def saved_kinds() -> list[str]:
    """The kinds of the items saved so far, in the order the pages come."""
    return kinds_present(get_client().saved_kinds())


def search_filters(kinds: list[str]) -> dict:
    """Search text, tag and kind (only kinds that exist) from the filter row."""
    query_column, tag_column, kind_column = st.columns([3, 2, 1])
    query = query_column.text_input("Search", key=f"{KEY}_query",
                                    placeholder="words in the title, notes, model, prompts or answers")
    tag = tag_column.text_input("Tag", key=f"{KEY}_tag", placeholder="one tag, exactly")
    if st.session_state.get(f"{KEY}_kind") not in ("all", *kinds):
        st.session_state.pop(f"{KEY}_kind", None)
    kind = kind_column.selectbox("Kind", ["all", *kinds], key=f"{KEY}_kind",
                                 format_func=lambda k: KIND_LABELS.get(k, k))
    return dict(query=query.strip(), tag=tag.strip(), kind="" if kind == "all" else kind)


def pick_items(items: list[SavedSummary]) -> list[SavedSummary]:
    """The listed items as a table with row selection; returns the selected ones."""
    rows = [dict(title=i.title, kind=i.kind, model=i.model, tags=", ".join(i.tags), saved=i.created_at,
                 notes=i.notes[:120]) for i in items]
    event = st.dataframe(rows, key=f"{KEY}_table", on_select="rerun", selection_mode="multi-row", hide_index=True,
                         width="stretch")
    return [items[i] for i in event.selection.rows]


def render_reopened(item: SavedItem) -> None:
    """Header, notes, export, delete, then the result as its page showed it."""
    st.subheader(markdown_literal(item.title))
    st.caption(f"{KIND_LABELS.get(item.kind, item.kind)} · {item.model} · saved {item.created_at} UTC · tags: "
               f"{', '.join(item.tags) or 'none'}")
    if item.notes:
        st.text(item.notes)
    export_column, delete_column = st.columns(2)
    export_column.download_button("Export (JSON)", item.model_dump_json(indent=2), file_name=f"uqlens-{item.id}.json",
                                  mime="application/json", key=f"{KEY}_export")
    confirm = delete_column.checkbox("I want to delete this", key=f"{KEY}_confirm_delete")
    if delete_column.button("Delete", disabled=not confirm, key=f"{KEY}_delete"):
        try:
            get_client().delete_saved(item.id)
        except TRANSIENT_ERRORS as exc:
            show_error(exc, kept="Nothing was deleted; press Delete again when the backend answers.")
            return
        st.session_state.pop(f"{KEY}_confirm_delete", None)
        st.rerun()
    render_saved_link(item.id, kind=item.kind)
    render_saved(item, key=f"{KEY}_view")


def render_import() -> None:
    """An uploader for files the Saved page exported (one item or a list): every item is checked first, then
    saved under its own id, so its link works here too; importing the same file again changes nothing."""
    with st.expander("Import exported analyses (JSON)"):
        upload = st.file_uploader("Export file", type=["json"], key=f"{KEY}_import_file",
                                  help="a file from “Export (JSON)” or “Export the listed items (JSON)”")
        if not st.button("Import", disabled=upload is None, key=f"{KEY}_import"):
            return
        try:
            saved = [get_client().save(request) for request in save_requests_from_export(upload.getvalue())]
        except EXPECTED_ERRORS as exc:
            show_error(exc, kept="Items imported before this one are kept; the others were not imported.")
            return
        st.success(f"Imported {len(saved)} item{'s' if len(saved) != 1 else ''}: "
                   f"{', '.join(markdown_literal(i.title) for i in saved[:5])}{' ...' if len(saved) > 5 else ''}.")


def render_linked(item_id: str) -> None:
    """The item the address names, as reopened from the list (in the presenter view when the address asks for it
    and the item is a text analysis); what to do when no item has that id here."""
    if st.button("Back to the list", key=f"{KEY}_back"):
        st.query_params.clear()
        st.rerun()
    try:
        item = get_client().get_saved(item_id)
    except TRANSIENT_ERRORS as exc:
        show_error(exc, kept="The linked item could not be read; nothing is lost.", retry_key=f"{KEY}_retry_link")
        return
    if item is None:
        st.warning(f"No saved analysis has the id {markdown_literal(item_id[:64])} here. It may have been deleted, "
                   f"or saved on another UQ Lens: import its export (JSON) below to open it here.")
        render_import()
    elif st.query_params.get(VIEW_PARAMETER) == PRESENT and item.kind == "text":
        render_presenter_view(payload_of(item), key=f"{KEY}_view")
    else:
        render_reopened(item)


def compare(first: SavedItem, second: SavedItem) -> None:
    """Both items side by side, with a download of the pair."""
    try:
        payloads = [payload_of(item) for item in (first, second)]
    except ValueError as exc:
        st.error(f"One of the two items cannot be drawn ({str(exc).splitlines()[0]}); export it as JSON instead.")
        return
    render_comparison([first.title, second.title], payloads, key=f"{KEY}_compare")
    st.download_button("Export both (JSON)", json.dumps([first.model_dump(), second.model_dump()], indent=2),
                       file_name="uqlens-saved-comparison.json", mime="application/json", key=f"{KEY}_export_pair")


def load_items(filters: dict) -> Optional[list[SavedSummary]]:
    """The filtered list, or None after saying why it could not be read."""
    try:
        return get_client().list_saved(limit=SCAN_LIMIT, **filters)
    except TRANSIENT_ERRORS as exc:
        show_error(exc, kept="The saved analyses could not be read; nothing is lost.", retry_key=f"{KEY}_retry")
        return None


def run_page() -> None:
    """Filters, the list, then the selected item (one) or the comparison (two)."""
    st.title("Saved analyses")
    linked = st.query_params.get(ID_PARAMETER)
    if linked:
        render_linked(linked)
        return
    render_import()
    try:
        kinds = saved_kinds()
    except TRANSIENT_ERRORS:
        kinds = []
    items = load_items(search_filters(kinds))
    if items is not None and not items:
        st.info("Nothing saved matches. Run an analysis on any page and use “Save this analysis” under it.")
    if not items:
        return
    selected = pick_items(items)
    st.download_button("Export the listed items (JSON)", json.dumps([i.model_dump() for i in items], indent=2),
                       file_name="uqlens-saved-list.json", mime="application/json", key=f"{KEY}_export_list")
    if len(selected) not in (1, 2):
        st.caption("Select one row to reopen it, or two to compare them.")
        return
    try:
        found = [get_client().get_saved(s.id) for s in selected]
    except TRANSIENT_ERRORS as exc:
        show_error(exc, kept="The selected items could not be read; nothing is lost.", retry_key=f"{KEY}_retry_open")
        return
    if not all(found):
        st.warning("That item was deleted meanwhile.")
    elif len(found) == 1:
        render_reopened(found[0])
    else:
        compare(*found)


run_page()
