"""The Attention & saliency page's Attention tab: where the explained token looked, the map's matrix window and
every head's thumbnail.

The map shown (st.session_state[MAP_STATE]: aggregation, layer, head, 0-based) switches in the browser when
every map of the window fits CLIENT_MAP_VALUES (components.attention_client: one every_map request, no rerun per
change; the page follows through a state value); past it, the Map / Layer / Head controls are Streamlit widgets
and each change asks the backend for that view (the sequence's attention is kept, so no forward pass).
"""
from __future__ import annotations

import json
from typing import Optional

import streamlit as st

from app.attention_rauq import rauq_marker
from app.attribution_services import text_attention
from backend.schemas import TextAnalysis
from backend.schemas.text_attention import (AttentionViewRequest, MapWindow, TextAttention, TextAttentionRequest,
                                            every_map_values)
from components.attention_client import (RAUQ_PANEL, SCALE_PANEL, MapChoice, ViewKeys, heading_tail, hidden_note,
                                         looked_weights, map_key, map_states, matrix_title, render_map_switch,
                                         render_state_panel)
from components.attention_matrix import render_attention_matrix, render_head_grid
from components.errors import EXPECTED_ERRORS, show_error
from components.text_safety import markdown_literal
from components.token_units import Unit, token_units
from components.token_weights import render_token_weights

KEY = "attn"
MAP_STATE = f"{KEY}_map"
DRAWN_STATE = f"{KEY}_drawn_map"
AGGREGATION_LABELS = {"head_mean": "Heads averaged (one layer)", "head": "One head", "layer_mean": "All layers averaged",
                      "rollout": "Rollout (all layers)"}
MAP_HELP = "which attention map the views show; switching redraws in the browser"
WINDOW_SIZES = [32, 64, 128, 256]
DEFAULT_WINDOW = 128
CLIENT_MAP_VALUES = 800_000
VIEW_KEYS = ViewKeys(matrix=f"{KEY}_attention_matrix", grid=f"{KEY}_head_grid", looked=f"{KEY}_looked_token_weights")


def shown_map() -> dict:
    """The map the page shows: {"aggregation", "layer" (0-based; None = the last), "head" (0-based)}."""
    return st.session_state.setdefault(MAP_STATE, {"aggregation": "head_mean", "layer": None, "head": 0})


def show_map(choice: MapChoice) -> None:
    """Make `choice` the map the page shows."""
    st.session_state[MAP_STATE] = {"aggregation": choice.aggregation, "layer": choice.layer, "head": choice.head}


def attention_request(analysis: TextAnalysis, granularity: str, every_map_position: Optional[int] = None) -> str:
    """The attention request of the current view settings, as JSON. With every_map_position: every map of the
    window (the shown map's own fields left at their defaults, so the request does not change with it)."""
    state, shown = st.session_state, shown_map()
    chosen = {} if every_map_position is not None else dict(aggregation=shown["aggregation"], layer=shown["layer"],
                                                             head=shown["head"])
    view = AttentionViewRequest(**chosen, granularity=granularity, window_start=state.get(f"{KEY}_window_start"),
                                window_size=state.get(f"{KEY}_window_size", DEFAULT_WINDOW),
                                every_map_position=every_map_position)
    return TextAttentionRequest(model=analysis.model, ids=analysis.ids, answer_start=analysis.answer_start,
                                view=view).model_dump_json()


def apply_picked_head() -> None:
    """Before the controls exist: show the head last clicked in the grid (a server-side click)."""
    picked = st.session_state.pop(f"{KEY}_picked_head", None)
    if picked is not None:
        show_map(MapChoice("head", picked[0], picked[1]))


def follow_widgets() -> None:
    """The server-side Map / Layer / Head widgets' values (1-based) into the shown map."""
    state = st.session_state
    show_map(MapChoice(state[f"{KEY}_aggregation"], state[f"{KEY}_layer"] - 1, state[f"{KEY}_head"] - 1))


def render_map_widgets(result: TextAttention, container) -> None:
    """Map, layer and head as Streamlit widgets (each change a rerun), set from the shown map."""
    view, state = result.view, st.session_state
    state[f"{KEY}_aggregation"], state[f"{KEY}_layer"], state[f"{KEY}_head"] = (view.aggregation, view.layer + 1,
                                                                                view.head + 1)
    left, middle, right = container.columns(3)
    left.radio("Map", list(AGGREGATION_LABELS), format_func=AGGREGATION_LABELS.get, key=f"{KEY}_aggregation",
               help=view.description, on_change=follow_widgets)
    middle.slider("Layer", 1, result.n_layers, key=f"{KEY}_layer", on_change=follow_widgets,
                  disabled=view.aggregation in ("layer_mean", "rollout"))
    right.slider("Head", 1, result.n_heads, key=f"{KEY}_head", on_change=follow_widgets,
                 disabled=view.aggregation != "head")


def render_window_controls(result: TextAttention) -> None:
    """The matrix window's size and start (each change a rerun: a new window)."""
    view, state = result.view, st.session_state
    state.setdefault(f"{KEY}_window_size", DEFAULT_WINDOW)
    units = len(token_units(result.tokens, granularity=view.matrix.granularity))
    left, right = st.columns(2)
    size = left.select_slider("Matrix window", WINDOW_SIZES, key=f"{KEY}_window_size",
                              help=f"{view.matrix.granularity}s per side of the matrix; the sequence has {units}")
    if units > size:
        state[f"{KEY}_window_start"] = min(view.matrix.start, units - size)
        right.slider("Window starts at", 0, units - size, key=f"{KEY}_window_start",
                     help=f"first {view.matrix.granularity} of the window")


def browser_window_note(result: TextAttention) -> str:
    """Why map changes ask the server for this window, and the window size that would make them instant."""
    layers, heads, granularity = result.n_layers, result.n_heads, result.view.matrix.granularity
    units = len(result.view.matrix.labels)
    fitting = [size for size in WINDOW_SIZES if every_map_values(layers, heads, size) <= CLIENT_MAP_VALUES]
    advice = f" A Matrix window of {fitting[-1]} makes them instant." if fitting else ""
    return (f"Map, layer and head changes ask the server here (about a second each): every map of a {units}-"
            f"{granularity} window is {every_map_values(layers, heads, units):,} numbers, past the "
            f"{CLIENT_MAP_VALUES:,} sent to the browser.{advice}")


def every_map_fits(result: TextAttention) -> bool:
    """Whether every map of the result's window fits CLIENT_MAP_VALUES (then maps switch in the browser)."""
    return every_map_values(result.n_layers, result.n_heads, len(result.view.matrix.labels)) <= CLIENT_MAP_VALUES


def map_entry(result: TextAttention, choice: dict, last_layer: int) -> MapWindow:
    """The every_map entry of a shown-map dict (layer None: the last layer)."""
    layer = last_layer if choice["layer"] is None else choice["layer"]
    wanted = map_key(MapChoice(choice["aggregation"], layer, choice["head"]))
    return next(m for m in result.view.every_map.maps if map_key(MapChoice(m.aggregation, m.layer, m.head)) == wanted)


def drawn_map(context: str) -> dict:
    """The map the figures are drawn at: the shown map when the context (the every-map request: sequence,
    token, window; the template choice) is new, else the one drawn for it before, so a rerun that only follows a
    browser-side switch redraws nothing (the browser has already drawn the shown map over it)."""
    previous, drawn = st.session_state.get(DRAWN_STATE, (None, None))
    if previous != context:
        drawn = dict(shown_map())
        st.session_state[DRAWN_STATE] = (context, drawn)
    return drawn


def shown_view(result: TextAttention, entry: MapWindow, selected: int) -> TextAttention:
    """The result with its view set to the map `entry` (its matrix from the entry's rows, zeros above the
    diagonal; its explained token's row), as the server would draw that map."""
    size = len(entry.lower)
    matrix = result.view.matrix.model_copy(update={"values": [row + [0.0] * (size - len(row)) for row in entry.lower]})
    rows = list(result.view.answer_rows)
    rows[selected] = entry.row
    view = result.view.model_copy(update={"aggregation": entry.aggregation, "layer": entry.layer, "head": entry.head,
                                          "label": entry.label, "matrix": matrix, "answer_rows": rows})
    return result.model_copy(update={"view": view})


def fetch_view(analysis: TextAnalysis, selected: int, granularity: str, show_template: bool
               ) -> tuple[TextAttention, Optional[MapChoice]]:
    """(the result to draw, the map shown when maps switch in the browser, else None). In the browser case the
    result is drawn at drawn_map (per request and template choice) and the shown map is applied over it there."""
    probe = text_attention(attention_request(analysis, granularity))
    if not every_map_fits(probe):
        return probe, None
    request_json = attention_request(analysis, granularity, every_map_position=analysis.tokens[selected].position)
    result = text_attention(request_json)
    last = result.n_layers - 1
    shown = map_entry(result, shown_map(), last)
    drawn = map_entry(result, drawn_map(json.dumps([request_json, show_template])), last)
    return shown_view(result, drawn, selected), MapChoice(shown.aggregation, shown.layer, shown.head)


def answer_breaks(units: list[Unit], answer_start: int) -> list[int]:
    """The index of the answer's first unit, so the answer starts on its own line."""
    return [next((i for i, u in enumerate(units) if u.position >= answer_start), len(units))]


def attention_tab(analysis: TextAnalysis, selected: int, granularity: str, show_template: bool) -> None:
    """Where the selected token looked, the map's matrix window and every head's thumbnail."""
    apply_picked_head()
    top = st.container()
    try:
        with st.spinner("Computing attention…"):
            result, shown = fetch_view(analysis, selected, granularity, show_template)
    except EXPECTED_ERRORS as exc:
        show_error(exc)
        st.session_state.pop(MAP_STATE, None)
        st.session_state.pop(f"{KEY}_window_start", None)
        return
    view, token, client = result.view, analysis.tokens[selected], shown is not None
    units = token_units(result.tokens, granularity=granularity, show_template=show_template)
    highlight = next((i for i, u in enumerate(units) if token.position in u.members), None)
    breaks = answer_breaks(units, analysis.answer_start)
    data, hidden = looked_weights(view.answer_rows[selected], units, highlight=highlight, breaks=breaks)
    render_token_weights(data, key=f"{KEY}_looked", caption=not client)
    scale_slot = st.container()
    if not client and hidden > 0:
        st.caption(hidden_note(hidden, granularity))
    render_window_controls(result)
    matrix_column, grid_column = st.columns([3, 2])
    with matrix_column:
        render_attention_matrix(view.matrix, key=KEY, title=matrix_title(view.label))
    with grid_column:
        clicked = render_head_grid(view.grid, key=KEY, selected=(view.layer, view.head)
                                   if view.aggregation == "head" else None,
                                   on_pick=lambda head: st.session_state.update({f"{KEY}_picked_head": head}),
                                   in_browser=client)
        rauq = rauq_marker(st.session_state[f"{KEY}_request"], key=KEY)
        rauq_slot = st.container()
    if clicked is not None and (view.aggregation != "head" or clicked != (view.layer, view.head)):
        st.session_state[f"{KEY}_picked_head"] = clicked
        st.rerun()
    if not client:
        render_map_widgets(result, top)
        top.caption(browser_window_note(result))
        top.markdown(f"**Where {markdown_literal(repr(token.text))} looked** "
                     f"{markdown_literal(heading_tail(view.label, granularity))}")
        if rauq:
            rauq_slot.caption(rauq(view.layer))
        return
    drawn = MapChoice(view.aggregation, view.layer, view.head)
    states = map_states(view.every_map, keys=VIEW_KEYS, window_start=view.matrix.start, grid_size=view.grid.size,
                        units=units, token_text=token.text, granularity=granularity, highlight=highlight,
                        breaks=breaks, rauq=rauq)
    with top:
        render_map_switch(KEY, states, shown=shown, drawn=drawn, n_layers=result.n_layers, n_heads=result.n_heads,
                          labels=AGGREGATION_LABELS, help_text=MAP_HELP, grid_key=VIEW_KEYS.grid, on_change=show_map)
    with scale_slot:
        render_state_panel(KEY, states, drawn, SCALE_PANEL)
    if rauq:
        with rauq_slot:
            render_state_panel(KEY, states, drawn, RAUQ_PANEL)
