"""Splitting a whole-answer saliency request into position chunks, and merging the chunks' results back."""
from __future__ import annotations

import pytest

from app.attribution_services import default_token, merge_saliency, position_chunks, relative_delta, with_more_steps
from backend.schemas import TextRequest
from backend.schemas.text import TokenScore
from backend.schemas.text_saliency import SaliencyRow, TextSaliencyRequest
from backend.text.generation import analyze_text
from backend.text.saliency import text_saliency


def token(text: str, entropy: float, special: bool = False) -> TokenScore:
    return TokenScore(position=0, text=text, id=0, prob=0.5, logprob=-0.69, entropy=entropy, rank=1, margin=0.1,
                      special=special, top_k=[])


def test_the_first_token_explained_is_the_most_uncertain_content_token():
    answer = [token("Paris", 0.4), token(" is", 1.2), token("\n", 3.0), token("<|im_end|>", 4.0, special=True)]
    assert default_token(answer) == 1                       # not the end-of-turn marker, not the newline


def test_an_answer_without_content_tokens_falls_back_to_the_most_uncertain_token():
    assert default_token([token(" ", 0.3), token("<|im_end|>", 2.0, special=True)]) == 1
    with pytest.raises(ValueError, match="no token"):
        default_token([])


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


def row(delta, at_input=-0.5, at_baseline=-2.5) -> SaliencyRow:
    return SaliencyRow(position=3, text="x", target_value=at_input, baseline_value=at_baseline, scores=[0.1],
                       scale=1.0, convergence_delta=delta)


def test_the_relative_delta_is_the_share_of_the_change_the_scores_miss():
    assert relative_delta(row(-0.5)) == pytest.approx(0.25)            # 0.5 of a change of 2 nats
    assert relative_delta(row(None)) is None                           # not integrated gradients
    assert relative_delta(row(0.1, at_input=1.0, at_baseline=1.0)) is None  # the target did not change


def test_more_steps_doubles_the_steps_up_to_the_maximum_and_keeps_the_rest():
    request = TextSaliencyRequest(model="m", ids=[1, 2, 3], answer_start=2, method="integrated_gradients",
                                  parameters={"steps": 32, "baseline": "content_zero"}, positions=[2])
    doubled = with_more_steps(request, 32, 256)
    assert doubled.parameters == {"steps": 64, "baseline": "content_zero"} and doubled.positions == [2]
    assert with_more_steps(request, 200, 256).parameters["steps"] == 256
