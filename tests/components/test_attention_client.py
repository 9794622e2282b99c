"""The Attention page's browser-side map switch: each map's state equals the figures the server draws for that
map (the matrix, the grid's outline, where the token looked, the captions), and map keys name maps both ways."""
from __future__ import annotations

import pytest

from backend.schemas import TextRequest
from backend.schemas.text_attention import AttentionViewRequest, TextAttentionRequest
from backend.text.attention import attention_maps
from backend.text.generation import analyze_text
from components.attention_client import (HEADING_PANEL, RAUQ_PANEL, SCALE_PANEL, MapChoice, ViewKeys,
                                         choice_of_key, looked_weights, map_key, map_states, matrix_title)
from components.attention_matrix import attention_matrix_figure, head_grid_figure
from components.client_view import key_selector
from components.token_units import token_units
from components.token_weights import scale_caption, token_weights_figure

KEYS = ViewKeys(matrix="m", grid="g", looked="w")


@pytest.fixture(scope="module")
def analysis(tiny_lm):
    return analyze_text(tiny_lm, TextRequest(model="tiny-random", prompt="Name a bird.", max_new_tokens=4))


def request(analysis, **view) -> TextAttentionRequest:
    return TextAttentionRequest(model=analysis.model, ids=analysis.ids, answer_start=analysis.answer_start,
                                view=AttentionViewRequest(window_size=16, **view))


def test_map_keys_name_maps_both_ways():
    for choice in (MapChoice("head", 2, 3), MapChoice("head_mean", 0, 0), MapChoice("rollout", 4, 0)):
        assert choice_of_key(map_key(choice), 5, 4) == choice
    assert map_key(MapChoice("head", 2, 3)) == "head|3|4" and map_key(MapChoice("layer_mean", 4, 0)) == "layer_mean"
    for bad in ("head|9|1", "head|1", "head_mean|x", "nothing", "", "head|0|1"):
        assert choice_of_key(bad, 5, 4) is None


def by_selector(updates, key, attribute):
    """The update of chart `key` that sets `attribute`."""
    return next(u for u in updates if u.get("figure") == key_selector(key)
                and attribute in u.get("restyle", u.get("relayout", {})))


def test_each_state_equals_the_figures_of_that_map(tiny_lm, analysis):
    selected = 1
    position = analysis.tokens[selected].position
    result = attention_maps(tiny_lm, request(analysis, every_map_position=position))
    units = token_units(result.tokens, granularity="token", show_template=False)
    highlight = next(i for i, u in enumerate(units) if position in u.members)
    breaks = [next(i for i, u in enumerate(units) if u.position >= analysis.answer_start)]
    states = map_states(result.view.every_map, keys=KEYS, window_start=result.view.matrix.start,
                        grid_size=result.view.grid.size, units=units, token_text=analysis.tokens[selected].text,
                        granularity="token", highlight=highlight, breaks=breaks, rauq=lambda layer: f"L{layer}")
    assert len(states) == 2 * 4 + 2 + 2
    for entry in result.view.every_map.maps:
        updates = states[map_key(MapChoice(entry.aggregation, entry.layer, entry.head))]
        single = attention_maps(tiny_lm, request(analysis, aggregation=entry.aggregation, layer=entry.layer,
                                                 head=entry.head)).view
        matrix = attention_matrix_figure(single.matrix, title=matrix_title(single.label))
        drawn = by_selector(updates, "m", "z")
        padded = [row + [None] * (len(drawn["restyle"]["z"][0]) - len(row)) for row in drawn["restyle"]["z"][0]]
        assert drawn["pad"] == ["z"]
        assert [[None if v is None else pytest.approx(v, abs=1e-9) for v in row] for row in padded] == \
            [list(row) for row in matrix.data[0].z]
        assert drawn["restyle"]["zmax"][0] == pytest.approx(matrix.data[0].zmax)
        assert by_selector(updates, "m", "title.text")["relayout"]["title.text"] == matrix.layout.title.text
        shapes = by_selector(updates, "g", "shapes")["relayout"]["shapes"]
        grid = head_grid_figure(single.grid, selected=(single.layer, single.head)
                                if single.aggregation == "head" else None)
        assert [(s["x0"], s["y0"], s["x1"], s["y1"]) for s in shapes] == \
            [(s.x0, s.y0, s.x1, s.y1) for s in grid.layout.shapes]
        data, _ = looked_weights(single.answer_rows[selected], units, highlight=highlight, breaks=breaks)
        looked = token_weights_figure(data).data[0]
        style = by_selector(updates, "w", "marker.color")["restyle"]
        assert style["marker.color"][0] == pytest.approx(list(looked.marker.color), abs=1e-7)
        assert style["marker.cmax"][0] == pytest.approx(looked.marker.cmax, abs=1e-7)
        assert style["textfont.color"][0] == list(looked.textfont.color)
        assert style["hovertext"][0] == list(looked.hovertext)
        panels = {u["panel"]: u["html"] for u in updates if "panel" in u}
        assert single.label in panels[HEADING_PANEL] and "looked" in panels[HEADING_PANEL]
        assert scale_caption(data).split(" (")[0] in panels[SCALE_PANEL]
        assert panels[RAUQ_PANEL] == f'<p class="uq-caption">L{entry.layer}</p>'
