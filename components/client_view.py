"""Views that change in the browser: a control (radio, slider, a click on a plotly figure) swaps in states that
Python computed beforehand, with no round trip to the server, so a view that needs no model call redraws in the
time plotly takes to restyle (tens of milliseconds) instead of a script rerun's (half a second and more).

The browser half is components/client_view.js (a Streamlit components v2 component mounted in the page's own
DOM, driving the page's plotly figures through plotly.js, which Streamlit loads as window.Plotly); its data
layout is documented there. This module builds that data:
  - updates: restyle(figure, {attribute: per-trace values}, traces), relayout(figure, {...}), panel(id, html);
  - controls: radio_control and slider_control (each names the dimension whose states it applies),
    click_control and keyed_click_control (a click on a figure's point draws that point's item);
  - composite_spec: controls that pick one state together (an attention map from Map, Layer and Head), which
    Python follows through a state value (its callback runs before the rerun the change starts);
  - render_client_view mounts the component and returns the trigger a panel's button sent (the only way back
    to Python: a model call such as a branch).
Panel HTML is built by the callers with html.escape on every user or model text.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import streamlit as st

HERE = Path(__file__).parent
Update = dict[str, Any]

_COMPONENT = st.components.v2.component(
    "uqlens_client_view", js=(HERE / "client_view.js").read_text(encoding="utf-8"),
    css=(HERE / "client_view.css").read_text(encoding="utf-8"), isolate_styles=False)


def key_selector(key: str) -> str:
    """The CSS selector of the element Streamlit draws for the widget or chart with this key (its class
    st-key-KEY as a whole word, so that a key is never matched inside a longer one)."""
    return f"[class~='st-key-{key}']"


def restyle(figure_key: str, attributes: dict[str, list], traces: Sequence[int], pad: Sequence[str] = ()) -> Update:
    """Plotly.restyle of the chart with key `figure_key`: attributes maps a plotly attribute path to one value
    per trace in `traces`. pad: attributes given as a matrix's rows up to the diagonal (row i: i + 1 values),
    padded with nulls to a square in the browser (half the numbers sent for a causal map)."""
    update = {"figure": key_selector(figure_key), "restyle": attributes, "traces": list(traces)}
    return {**update, "pad": list(pad)} if pad else update


def relayout(figure_key: str, attributes: dict[str, Any]) -> Update:
    """Plotly.relayout of the chart with key `figure_key`."""
    return {"figure": key_selector(figure_key), "relayout": attributes}


def panel(panel_id: str, html: str) -> Update:
    """Replace the HTML of the panel with this DOM id (a panel of some client view on the page)."""
    return {"panel": panel_id, "html": html}


def radio_control(dimension: str, label: str, options: Sequence[tuple[str, str]], help_text: str = "") -> dict:
    """Radio buttons choosing the value of `dimension`; options: (value, label) in order."""
    return {"kind": "radio", "dimension": dimension, "label": label, "options": [list(o) for o in options],
            "help": help_text}


def slider_control(dimension: str, label: str, keys: Sequence[str], help_text: str = "") -> dict:
    """A slider over the state keys of `dimension`, in order; its label shows the key picked."""
    return {"kind": "slider", "dimension": dimension, "label": label, "keys": list(keys), "help": help_text}


def click_control(figure_key: str, *, trace: int, renderer: str, panel_id: str, items: list[dict],
                  vline_keys: Sequence[str] = (), picked: Optional[int] = None) -> dict:
    """A click on point i of `trace` in the chart with key figure_key (one point per item): outline point i
    among the trace's points, draw items[i] with the JS renderer into the panel with DOM id panel_id, and mark
    x = i with a dashed vertical line in each chart of vline_keys. picked: the point drawn picked as soon as the
    figure is there (None: none)."""
    return {"kind": "plot_click", "figure": key_selector(figure_key), "renderer": renderer, "panel": panel_id,
            "items": {f"{trace}-{i}": item for i, item in enumerate(items)},
            "picked": None if picked is None else f"{trace}-{picked}",
            "outline": {"trace": trace, "count": len(items), "width": [3, 0.5], "color": ["#111111", "#bbbbbb"]},
            "vline": [key_selector(k) for k in vline_keys]}


def keyed_click_control(figure_key: str, *, panel_id: str, items: dict[tuple[int, int], dict],
                        select: Sequence[int] = ()) -> dict:
    """A click on a point of the chart with key figure_key: items[(trace, point)] = {"html": panel HTML,
    "select": [trace, point]} fills the panel with DOM id panel_id and outlines that bar among the bars of the
    traces in `select`. Points without an item do nothing."""
    return {"kind": "plot_click", "figure": key_selector(figure_key), "renderer": "html", "panel": panel_id,
            "items": {f"{trace}-{point}": item for (trace, point), item in items.items()}, "select": list(select)}


def composite_spec(dimension: str, parts: Sequence[str], uses: dict[str, Sequence[str]], sync: str,
                   drawn: str) -> dict:
    """Controls of `parts` (the first a radio) picking states[dimension][key] together: key = the first part's
    value, then the value of each part uses[that value] names, joined by "|" (composite_key). The parts a
    value does not use are disabled. The state value `sync` follows the key (500 ms after the last change).
    drawn: the key of the state the figures are drawn at (the controls' state is applied over it when the
    initial values name another)."""
    return {"dimension": dimension, "parts": list(parts), "uses": {k: list(v) for k, v in uses.items()},
            "sync": sync, "drawn": drawn}


def composite_key(values: Sequence[str]) -> str:
    """The state key of a composite's values (the first part's value, then the parts it uses)."""
    return "|".join(values)


def parts_click_control(figure_key: str, *, trace: int, values: Sequence[dict[str, str]]) -> dict:
    """A click on point i of `trace` in the chart with key figure_key sets the composite's parts to values[i]
    ({part: value}; a head grid's tile picking its layer and head)."""
    return {"kind": "plot_click", "figure": key_selector(figure_key), "renderer": "html", "panel": None,
            "items": {f"{trace}-{i}": {"set": dict(v)} for i, v in enumerate(values)}}


def render_client_view(key: str, *, controls: Sequence[dict] = (), panels: Sequence[tuple[str, str]] = (),
                       states: Optional[dict[str, dict[str, list[Update]]]] = None,
                       initial: Optional[dict[str, str]] = None, triggers: Sequence[str] = (),
                       composite: Optional[dict] = None,
                       on_sync: Optional[Callable[[str], None]] = None) -> dict[str, Any]:
    """Mount one client view: its controls, then its panels ((DOM id, initial HTML)). states[dimension][value]:
    the updates a control applies when it picks that value; initial: each dimension's value as drawn.
    composite (composite_spec): controls that pick one state together; on_sync(key) runs before the rerun a
    change of it starts. Returns {trigger name: value} for each of `triggers` a panel's button sent in the run
    it starts (None otherwise)."""
    data = {"controls": list(controls), "panels": [{"id": i, "html": h} for i, h in panels],
            "states": states or {}, "initial": initial or {}, "composite": composite}
    callbacks = {f"on_{name}_change": _ignore for name in triggers}
    if composite is not None:
        sync = composite["sync"]
        callbacks[f"on_{sync}_change"] = lambda: on_sync(synced_value(key, sync)) if on_sync else None
    result = _COMPONENT(key=key, data=data, **callbacks)
    return {name: getattr(result, name, None) if result is not None else None for name in triggers}


def synced_value(key: str, name: str) -> Optional[str]:
    """The state value `name` the client view with this key last set (None before any)."""
    state = st.session_state.get(key)
    if state is None:
        return None
    return state.get(name) if hasattr(state, "get") else getattr(state, name, None)


def _ignore() -> None:
    """The callback a trigger needs to be reported (the caller reads the value from the result)."""
