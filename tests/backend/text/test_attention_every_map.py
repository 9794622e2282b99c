"""Every map over a view's window: each equals the single view of that map, and its row the producing row."""
from __future__ import annotations

import pytest

from backend.errors import UserInputError
from backend.schemas import TextRequest
from backend.schemas.text_attention import AttentionViewRequest, TextAttentionRequest
from backend.text import attention_every_map
from backend.text.attention import attention_maps
from backend.schemas.text_attention import every_map_values, map_count
from backend.text.attention_every_map import lower_rows
from backend.text.generation import analyze_text

PROMPT = "Name three primary colours."


@pytest.fixture(scope="module")
def analysis(tiny_lm):
    return analyze_text(tiny_lm, TextRequest(model="tiny-random", prompt=PROMPT, max_new_tokens=5))


def request(analysis, **view) -> TextAttentionRequest:
    return TextAttentionRequest(model=analysis.model, ids=analysis.ids, answer_start=analysis.answer_start,
                                view=AttentionViewRequest(**view))


@pytest.mark.parametrize("granularity", ["token", "word"])
def test_each_map_equals_its_single_view(tiny_lm, analysis, granularity):
    position = analysis.answer_start + 2
    window = dict(granularity=granularity, window_start=4, window_size=12)
    maps = attention_maps(tiny_lm, request(analysis, every_map_position=position, **window)).view.every_map.maps
    assert len(maps) == map_count(2, 4) == 2 * 4 + 2 + 2
    assert [m.aggregation for m in maps] == ["head"] * 8 + ["head_mean"] * 2 + ["layer_mean", "rollout"]
    for shown in maps:
        single = attention_maps(tiny_lm, request(analysis, aggregation=shown.aggregation, layer=shown.layer,
                                                 head=shown.head, **window)).view
        assert shown.label == single.label
        expected = single.matrix.values
        assert [len(r) for r in shown.lower] == list(range(1, len(expected) + 1))
        for i, row in enumerate(shown.lower):
            assert row == pytest.approx(expected[i][:i + 1], abs=5.01e-5)
            assert all(v == pytest.approx(0.0, abs=1e-7) for v in expected[i][i + 1:])
        assert shown.row == pytest.approx(single.answer_rows[position - analysis.answer_start], abs=1e-6)
        assert sum(shown.row) == pytest.approx(1.0, abs=1e-5)


def test_lower_rows_by_hand():
    import torch
    matrix = torch.tensor([[1.0, 0.0, 0.0], [0.25, 0.75, 0.0], [0.123456, 0.5, 0.376544]])
    assert lower_rows(matrix) == [[1.0], [0.25, 0.75], [0.1235, 0.5, 0.3765]]
    assert every_map_values(30, 9, 4) == (270 + 30 + 2) * 10


def test_too_many_values_and_bad_positions_are_refused(tiny_lm, analysis, monkeypatch):
    with pytest.raises(UserInputError, match="must lie in 1"):
        attention_maps(tiny_lm, request(analysis, every_map_position=len(analysis.ids)))
    monkeypatch.setattr(attention_every_map, "MAX_EVERY_MAP_VALUES", 100)
    with pytest.raises(UserInputError, match="smaller matrix window"):
        attention_maps(tiny_lm, request(analysis, every_map_position=analysis.answer_start))
    assert attention_maps(tiny_lm, request(analysis)).view.every_map is None
