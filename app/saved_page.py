"""Saved page: find saved analyses, reopen one exactly as it was, compare two, export or delete."""
from __future__ import annotations

import json
from typing import Optional

import streamlit as st

from app.services import get_client
from backend.errors import BackendBusyError, BackendUnavailableError
from backend.schemas import TextAnalysis
from backend.schemas.store import SavedItem, SavedSummary
from components.saved_compare import summaries_table
from components.text_analysis_view import render_text_analysis
from components.text_safety import markdown_literal
from components.token_heatmap import render_token_heatmap

KEY = "saved"
KINDS = ["text", "image", "sequence", "attention", "audit"]


def search_filters() -> dict:
    """Search text, tag and kind from the filter row."""
    query_column, tag_column, kind_column = st.columns([3, 2, 1])
    query = query_column.text_input("Search", key=f"{KEY}_query", placeholder="words in the title, notes or model")
    tag = tag_column.text_input("Tag", key=f"{KEY}_tag", placeholder="one tag, exactly")
    kind = kind_column.selectbox("Kind", ["all", *KINDS], key=f"{KEY}_kind")
    return dict(query=query.strip(), tag=tag.strip(), kind="" if kind == "all" else kind)


def pick_items(items: list[SavedSummary]) -> list[SavedSummary]:
    """The listed items as a table with row selection; returns the selected ones."""
    rows = [dict(title=i.title, kind=i.kind, model=i.model, tags=", ".join(i.tags), saved=i.created_at,
                 notes=i.notes[:120]) for i in items]
    event = st.dataframe(rows, key=f"{KEY}_table", on_select="rerun", selection_mode="multi-row", hide_index=True,
                         width="stretch")
    return [items[i] for i in event.selection.rows]


def render_item(item: SavedItem, *, key: str) -> None:
    """One saved item as it was shown when it was saved (text analyses) or as its JSON (other kinds)."""
    if item.kind == "text":
        render_text_analysis(TextAnalysis.model_validate(item.payload), key=key)
    else:
        st.json(item.payload, expanded=False)


def render_reopened(item: SavedItem) -> None:
    """Header, notes, export, delete, then the analysis itself."""
    st.subheader(markdown_literal(item.title))
    st.caption(f"{item.kind} · {item.model} · saved {item.created_at} UTC · tags: {', '.join(item.tags) or 'none'}")
    if item.notes:
        st.text(item.notes)
    export_column, delete_column = st.columns(2)
    export_column.download_button("Export (JSON)", item.model_dump_json(indent=2), file_name=f"uqlens-{item.id}.json",
                                  mime="application/json", key=f"{KEY}_export")
    confirm = delete_column.checkbox("I want to delete this", key=f"{KEY}_confirm_delete")
    if delete_column.button("Delete", disabled=not confirm, key=f"{KEY}_delete"):
        get_client().delete_saved(item.id)
        st.session_state.pop(f"{KEY}_confirm_delete", None)
        st.rerun()
    render_item(item, key=f"{KEY}_view")


def render_comparison(first: SavedItem, second: SavedItem) -> None:
    """Two text analyses side by side: their summaries in one table, then their heatmaps."""
    if first.kind != "text" or second.kind != "text":
        st.info("Comparison is drawn for two text analyses; pick two of kind 'text'.")
        return
    analyses = [TextAnalysis.model_validate(item.payload) for item in (first, second)]
    st.dataframe(summaries_table([first.title, second.title], analyses), hide_index=True, width="stretch")
    for column, item, analysis, side in zip(st.columns(2), (first, second), analyses, ("a", "b")):
        with column:
            st.markdown(f"**{markdown_literal(item.title)}**")
            render_token_heatmap(analysis.tokens, key=f"{KEY}_compare_{side}", chars_per_line=40)


def load_items(filters: dict) -> Optional[list[SavedSummary]]:
    """The filtered list, or None after saying why it could not be read."""
    try:
        return get_client().list_saved(limit=500, **filters)
    except (BackendBusyError, BackendUnavailableError) as exc:
        st.warning(f"The saved analyses could not be read: {exc}. Nothing is lost; try again.")
        st.button("Retry", key=f"{KEY}_retry")
        return None


st.title("Saved analyses")
items = load_items(search_filters())
if items is not None and not items:
    st.info("Nothing saved matches. Run an analysis on the Text page and use “Save this analysis” under it.")
elif items:
    selected = pick_items(items)
    st.download_button("Export the listed items (JSON)", json.dumps([i.model_dump() for i in items], indent=2),
                       file_name="uqlens-saved-list.json", mime="application/json", key=f"{KEY}_export_list")
    if not selected:
        st.caption("Select one row to reopen it, or two to compare them.")
    elif len(selected) == 1:
        found = get_client().get_saved(selected[0].id)
        if found is None:
            st.warning("That item was deleted meanwhile.")
        else:
            render_reopened(found)
    elif len(selected) == 2:
        pair = [get_client().get_saved(s.id) for s in selected]
        if all(pair):
            render_comparison(*pair)
    else:
        st.caption("Select one row to reopen it, or two to compare them.")
