"""A click on the token heatmap or the head grid hands the pick over in a callback before the rerun
(components.token_heatmap.pick_callback), so the page draws it in one run instead of two; the Text page's figures
are built once per content and view (components.figure_cache)."""
from __future__ import annotations

import numpy as np
import streamlit as st

from components.attention_matrix import clicked_head, head_grid_figure
from components.token_heatmap import clicked_token, pick_callback
from tests.components.attribution_factories import make_grid


def test_without_on_pick_the_chart_just_reruns():
    assert pick_callback("k_heatmap", None, clicked_token) == "rerun"


def test_the_callback_hands_on_the_clicked_token_and_ignores_an_empty_selection():
    picked = []
    callback = pick_callback("k_heatmap", picked.append, clicked_token)
    st.session_state["k_heatmap"] = {"selection": {"points": [{"curve_number": 1, "point_index": 9},
                                                              {"curve_number": 0, "point_index": 3}]}}
    callback()
    st.session_state["k_heatmap"] = {"selection": {"points": []}}
    callback()
    assert picked == [3]


def test_the_head_grid_callback_hands_on_layer_and_head():
    picked = []
    st.session_state["g_head_grid"] = {"selection": {"points": [{"customdata": [2, 1], "point_index": 5}]}}
    pick_callback("g_head_grid", picked.append, clicked_head)()
    assert picked == [(2, 1)] and clicked_head(None) is None


def test_the_head_grid_values_go_to_plotly_as_one_array_with_gaps_as_nan():
    z = head_grid_figure(make_grid()).data[0].z
    assert isinstance(z, np.ndarray) and z.shape == (9, 6)
    assert list(z[0][:2]) == [0.5, 1.0] and np.isnan(z[0][2])


def test_cached_figures_are_built_once_per_content_and_view(monkeypatch):
    from components import figure_cache, token_heatmap
    from tests.components.factories import make_tokens

    built = []
    real = token_heatmap.token_heatmap_figure
    monkeypatch.setattr(token_heatmap, "token_heatmap_figure", lambda *a, **k: built.append(k) or real(*a, **k))
    figure_cache.heatmap_figure.clear()
    tokens = make_tokens(["Par", "is", "."])
    digest = figure_cache.tokens_digest(tokens)
    first = figure_cache.heatmap_figure(digest, tokens, "prob", 72, None, 1.0)
    assert figure_cache.heatmap_figure(digest, tokens, "prob", 72, None, 1.0) is first
    figure_cache.heatmap_figure(digest, tokens, "entropy", 72, None, 1.0)
    assert [k["measure"] for k in built] == ["prob", "entropy"]
    changed = [tokens[0].model_copy(update={"prob": 0.01})] + list(tokens[1:])
    assert figure_cache.tokens_digest(changed) != digest == figure_cache.tokens_digest(list(tokens))
