"""Splitting a whole-answer saliency request into position chunks, and merging the chunks' results back."""
from __future__ import annotations

import pytest

from app.attribution_services import merge_saliency, position_chunks
from backend.schemas import TextRequest
from backend.schemas.text_saliency import TextSaliencyRequest
from backend.text_generation import analyze_text
from backend.text_saliency_maps import text_saliency


def test_positions_are_split_in_order_into_groups_of_at_most_the_size():
    assert position_chunks([5, 6, 7, 8, 9], 2) == [[5, 6], [7, 8], [9]]
    assert position_chunks([5, 6], 16) == [[5, 6]]
    assert position_chunks([], 3) == []
    with pytest.raises(ValueError, match="at least 1"):
        position_chunks([1], 0)


def test_merging_chunk_results_gives_the_whole_answer_result(tiny_lm):
    analysis = analyze_text(tiny_lm, TextRequest(model="tiny-random", prompt="Name a colour.", max_new_tokens=5,
                                                 temperature=1.5))
    request = TextSaliencyRequest(model=analysis.model, ids=analysis.ids, answer_start=analysis.answer_start,
                                  method="integrated_gradients", target="entropy", parameters={"steps": 8},
                                  temperature=analysis.temperature)
    whole = text_saliency(tiny_lm, request)
    positions = list(range(analysis.answer_start, len(analysis.ids)))
    parts = [text_saliency(tiny_lm, request.model_copy(update={"positions": chunk}))
             for chunk in position_chunks(positions, 2)]
    merged = merge_saliency(parts)
    assert [r.position for r in merged.rows] == positions
    for got, expected in zip(merged.rows, whole.rows):
        assert got.scores == pytest.approx(expected.scores, abs=1e-5)
        assert got.convergence_delta == pytest.approx(expected.convergence_delta, abs=1e-5)
    assert merged.backward_passes == whole.backward_passes
    assert merged.seconds == pytest.approx(sum(p.seconds for p in parts))


def test_merging_nothing_is_an_error():
    with pytest.raises(ValueError, match="nothing to merge"):
        merge_saliency([])
