"""The Attention page's map switch in the browser (components.client_view): the Map, Layer and Head controls and
a click on a head grid's tile swap in that map's matrix window, where the explained token looked, the view's
title, the tile's outline and the RAUQ marker's caption, with no rerun of the page; the page follows the choice
through a state value (a rerun of the controls' fragment only), so a save names the map shown.

Every state is computed here from one every_map result (backend.text.attention_every_map) with the functions
the server-drawn figures use (components.attention_matrix, components.token_weights).
"""
from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Callable, Optional, Sequence

import streamlit as st

from backend.schemas.text_attention import EveryMap, MapWindow
from components.attention_matrix import colour_ceiling, selected_tile_shape
from components.client_view import (Update, composite_key, composite_spec, panel, radio_control, relayout,
                                    parts_click_control, render_client_view, restyle, slider_control)
from components.text_safety import escape_plotly
from components.token_units import Unit, hidden_share, unit_values
from components.token_weights import WeightedText, over_shown, scale_caption, weight_style

MAP = "map"
USES = {"head": ("layer", "head"), "head_mean": ("layer",), "layer_mean": (), "rollout": ()}
HEADING_PANEL = "uq-attn-looked-heading"
SCALE_PANEL = "uq-attn-looked-scale"
RAUQ_PANEL = "uq-attn-rauq"


@dataclass(frozen=True)
class MapChoice:
    """Which map a view shows: aggregation, layer and head 0-based (layer and head ignored where unused)."""

    aggregation: str
    layer: int
    head: int


def map_key(choice: MapChoice) -> str:
    """The client view's state key of a map: "head|3|2", "head_mean|3", "layer_mean", "rollout" (1-based)."""
    numbers = {"layer": str(choice.layer + 1), "head": str(choice.head + 1)}
    return composite_key([choice.aggregation] + [numbers[part] for part in USES[choice.aggregation]])


def choice_of_key(key: str, n_layers: int, n_heads: int) -> Optional[MapChoice]:
    """The map a state key names (map_key's inverse; the last layer where the key names none), or None when it
    names no map of a model with these layers and heads."""
    parts = key.split("|") if isinstance(key, str) else []
    if not parts or parts[0] not in USES or len(parts) != 1 + len(USES[parts[0]]) or \
            not all(p.isdigit() for p in parts[1:]):
        return None
    numbers = dict(zip(USES[parts[0]], (int(p) - 1 for p in parts[1:])))
    choice = MapChoice(parts[0], numbers.get("layer", n_layers - 1), numbers.get("head", 0))
    return choice if 0 <= choice.layer < n_layers and 0 <= choice.head < n_heads else None


def looked_weights(row: Sequence[float], units: Sequence[Unit], *, highlight: Optional[int],
                   breaks: Sequence[int]) -> tuple[WeightedText, float]:
    """(what the "where it looked" figure draws, the hidden share): the row's weights per unit, rescaled over
    the shown units when part of the row falls on hidden ones (the chat template)."""
    hidden = hidden_share(row, units)
    weights, value_label = unit_values(row, units), "attention weight"
    if hidden > 0:
        weights, value_label = over_shown(weights), "share of the shown attention"
    return WeightedText(labels=[u.label for u in units], weights=weights, positions=[u.position for u in units],
                        signed=False, value_label=value_label, highlight=highlight, breaks=breaks), hidden


def heading_tail(label: str, granularity: str) -> str:
    """The heading's words after the token: the map and what the row is."""
    return f"({label}): the attention of the step that produced it over every earlier {granularity}."


def hidden_note(hidden: float, granularity: str) -> str:
    """The caption under the figure when part of the row falls on the hidden chat template ("" when none)."""
    if hidden <= 0:
        return ""
    return (f"Normalised over what is shown: the weights above are rescaled to sum to 1 over the shown "
            f"{granularity}s. In the raw row (summing to 1 over all positions) {hidden:.1%} falls on the hidden "
            f"chat template (mostly its first token, an attention sink); tick 'Show the chat template' to see the "
            f"raw weights.")


def matrix_title(label: str) -> str:
    """The matrix figure's title."""
    return f"{label}: query x key"


def heading_html(token_text: str, label: str, granularity: str) -> str:
    """The heading above the figure, as HTML."""
    return f"<p><b>Where {escape(repr(token_text))} looked</b> {escape(heading_tail(label, granularity))}</p>"


def caption_html(text: str) -> str:
    """A caption paragraph ("" for no text)."""
    return f'<p class="uq-caption">{escape(text)}</p>' if text else ""


@dataclass(frozen=True)
class ViewKeys:
    """The chart keys of the figures a map switch redraws."""

    matrix: str
    grid: str
    looked: str


def map_updates(shown: MapWindow, *, keys: ViewKeys, window_start: int, grid_size: int, units: Sequence[Unit],
                token_text: str, granularity: str, highlight: Optional[int], breaks: Sequence[int],
                rauq: Optional[Callable[[int], str]] = None) -> list[Update]:
    """The updates that draw one map: the matrix (its causal rows, padded in the browser; colour ceiling and
    title), the grid's outline (a head only), where the token looked (colours, scale, text colours, hovers,
    legend title), the heading and scale panels (the colour scale's caption, the hidden share) and, with
    rauq (a 0-based layer's caption), the RAUQ panel."""
    data, hidden = looked_weights(shown.row, units, highlight=highlight, breaks=breaks)
    style = weight_style(data)
    outline = [selected_tile_shape(grid_size, shown.layer, shown.head)] if shown.aggregation == "head" else []
    return [
        restyle(keys.matrix, {"z": [shown.lower], "zmax": [colour_ceiling(shown.lower, window_start)]}, [0],
                pad=["z"]),
        relayout(keys.matrix, {"title.text": escape_plotly(matrix_title(shown.label))}),
        relayout(keys.grid, {"shapes": outline}),
        restyle(keys.looked, {"marker.color": [style.colours], "marker.cmin": [style.cmin],
                              "marker.cmax": [style.cmax], "textfont.color": [style.text_colours],
                              "hovertext": [style.hover],
                              "marker.colorbar.title.text": [escape_plotly(data.value_label)]}, [0]),
        panel(HEADING_PANEL, heading_html(token_text, shown.label, granularity)),
        panel(SCALE_PANEL, caption_html(scale_caption(data)) + caption_html(hidden_note(hidden, granularity))),
    ] + ([panel(RAUQ_PANEL, caption_html(rauq(shown.layer)))] if rauq else [])


def map_states(every: EveryMap, **drawn) -> dict[str, list[Update]]:
    """{map key: updates} for every map of `every` (map_updates' keyword arguments in `drawn`)."""
    return {map_key(MapChoice(m.aggregation, m.layer, m.head)): map_updates(m, **drawn) for m in every.maps}


@st.fragment
def render_map_switch(key: str, states: dict[str, list[Update]], *, shown: MapChoice, drawn: MapChoice,
                      n_layers: int, n_heads: int, labels: dict[str, str], help_text: str, grid_key: str,
                      on_change: Callable[[MapChoice], None]) -> None:
    """The Map / Layer / Head controls and the heading panel (drawn above the figures), a click on the head
    grid's tiles (chart key grid_key), the states of every map (map_states). The controls show `shown`; the
    figures were drawn at `drawn` (shown is applied over them in the browser when it differs); on_change(choice)
    runs before the rerun a change starts."""
    tiles = [{"aggregation": "head", "layer": str(layer + 1), "head": str(head + 1)}
             for layer in range(n_layers) for head in range(n_heads)]
    controls = [radio_control("aggregation", "Map", list(labels.items()), help_text),
                slider_control("layer", "Layer", [str(i) for i in range(1, n_layers + 1)]),
                slider_control("head", "Head", [str(i) for i in range(1, n_heads + 1)]),
                parts_click_control(grid_key, trace=1, values=tiles)]
    initial = {"aggregation": shown.aggregation, "layer": str(shown.layer + 1), "head": str(shown.head + 1)}

    def follow(state_key: Optional[str]) -> None:
        choice = choice_of_key(state_key, n_layers, n_heads) if state_key else None
        if choice is not None:
            on_change(choice)

    heading = next(u["html"] for u in states[map_key(drawn)] if u.get("panel") == HEADING_PANEL)
    render_client_view(f"{key}_map_view", controls=controls, panels=[(HEADING_PANEL, heading)],
                       states={MAP: states}, initial=initial,
                       composite=composite_spec(MAP, ["aggregation", "layer", "head"], USES, sync=MAP,
                                                drawn=map_key(drawn)),
                       on_sync=follow)


def render_state_panel(key: str, states: dict[str, list[Update]], drawn: MapChoice, panel_id: str) -> None:
    """One panel of the map states (SCALE_PANEL, RAUQ_PANEL) as drawn at `drawn`; the map switch redraws it."""
    html = next(u["html"] for u in states[map_key(drawn)] if u.get("panel") == panel_id)
    render_client_view(f"{key}_{panel_id}", panels=[(panel_id, html)])
