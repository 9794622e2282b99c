"""Attention folded one layer at a time (a sequence whose every-layer weights would not fit): the same views,
rollout and thumbnails as the all-layers path and as a direct transformers forward, one layer's weights held at a
time, refused past its own budget with the longest length that fits."""
from __future__ import annotations

import pytest
import torch

import backend.text.attention as maps
from backend.errors import UserInputError
from backend.schemas import TextRequest, TextSaliencyRequest
from backend.schemas.text_attention import AttentionViewRequest, TextAttentionRequest
from backend.text import attention_stream
from backend.text.generation import analyze_text
from backend.text.saliency import text_saliency
from tests.backend.text.test_attention import direct_attentions

PROMPT = "What is the capital of France?"
VIEWS = [dict(aggregation="head", layer=1, head=2), dict(aggregation="head_mean", layer=0),
         dict(aggregation="layer_mean"), dict(aggregation="rollout", window_start=2, window_size=9, thumbnail=4),
         dict(aggregation="head", layer=0, head=3, granularity="word", window_size=6)]


@pytest.fixture(scope="module")
def analysis(tiny_lm):
    return analyze_text(tiny_lm, TextRequest(model="tiny-random", prompt=PROMPT, max_new_tokens=6))


def request(analysis, view: dict) -> TextAttentionRequest:
    return TextAttentionRequest(model=analysis.model, ids=analysis.ids, answer_start=analysis.answer_start,
                                view=AttentionViewRequest(**view))


def folded_maps(lm, attention_request, monkeypatch):
    """attention_maps with the all-layers budget at 0, so every sequence is folded a layer at a time."""
    with monkeypatch.context() as patch:
        patch.setattr(maps, "ATTENTION_BUDGET_BYTES", 0)
        return maps.attention_maps(lm, attention_request)


@pytest.mark.parametrize("view", VIEWS, ids=lambda v: f"{v['aggregation']}-{v.get('granularity', 'token')}")
def test_folded_views_equal_the_all_layers_views(tiny_lm, analysis, monkeypatch, view):
    tiny_lm.kept_attention.clear()
    whole = maps.attention_maps(tiny_lm, request(analysis, view))
    folded = folded_maps(tiny_lm, request(analysis, view), monkeypatch)
    assert (folded.n_layers, folded.n_heads) == (whole.n_layers, whole.n_heads)
    for mine, theirs in ((folded.rollout, whole.rollout), (folded.last_layer_head_mean, whole.last_layer_head_mean),
                         (folded.view.answer_rows, whole.view.answer_rows)):
        assert [len(r) for r in mine] == [len(r) for r in theirs]
        for a, b in zip(mine, theirs):
            assert a == pytest.approx(b, abs=1e-6)
    assert torch.tensor(folded.view.matrix.values).numpy() == pytest.approx(
        torch.tensor(whole.view.matrix.values).numpy(), abs=1e-6)
    assert folded.view.matrix.labels == whole.view.matrix.labels and folded.view.label == whole.view.label
    assert torch.tensor(folded.view.grid.values).numpy() == pytest.approx(
        torch.tensor(whole.view.grid.values).numpy(), abs=1e-4)


def test_a_folded_pass_holds_one_layer_and_keeps_nothing(tiny_lm, analysis, monkeypatch):
    tiny_lm.kept_attention.clear()
    held = []
    original = attention_stream.fold_layer
    monkeypatch.setattr(attention_stream, "fold_layer", lambda folded, index, weights, *rest: (
        held.append(tuple(weights.shape)), original(folded, index, weights, *rest))[-1])
    result = folded_maps(tiny_lm, request(analysis, VIEWS[0]), monkeypatch)
    tokens = len(analysis.ids)
    assert held == [(4, tokens, tokens)] * 2  # each layer's (H, T, T) once, in turn
    assert tiny_lm.kept_attention.key is None
    direct = direct_attentions(tiny_lm, analysis.ids)
    p = analysis.answer_start
    assert result.view.answer_rows[0] == pytest.approx(direct[1, 2, p - 1, :p].tolist(), abs=1e-6)


def test_the_attention_saliency_of_a_folded_sequence_equals_the_all_layers_one(tiny_lm, analysis, monkeypatch):
    saliency = TextSaliencyRequest(model=analysis.model, ids=analysis.ids, answer_start=analysis.answer_start,
                                   method="attention", parameters={"source": "rollout"})
    tiny_lm.kept_attention.clear()
    whole = text_saliency(tiny_lm, saliency)
    monkeypatch.setattr(maps, "ATTENTION_BUDGET_BYTES", 0)
    folded = text_saliency(tiny_lm, saliency)
    for a, b in zip(folded.rows, whole.rows):
        assert a.scores == pytest.approx(b.scores, abs=1e-9)


def test_past_its_own_budget_a_folded_pass_is_refused_with_the_longest_length(tiny_lm, monkeypatch):
    per_cell = attention_stream.stream_bytes(tiny_lm, 1)
    monkeypatch.setattr(attention_stream, "STREAM_BUDGET_BYTES", per_cell * 30 * 30)
    assert attention_stream.folded_attention(tiny_lm, list(range(1, 31))).rollout.shape == (30, 30)
    with pytest.raises(UserInputError, match="31 tokens would take .* one layer at a time; .* at most 30 tokens"):
        attention_stream.folded_attention(tiny_lm, list(range(1, 32)))


@pytest.mark.slow
def test_the_default_model_folded_equals_a_direct_forward(default_lm, monkeypatch):
    analysis = analyze_text(default_lm, TextRequest(prompt=PROMPT, answer="Paris is the capital of France. " * 20))
    result = folded_maps(default_lm, request(analysis, dict(aggregation="head", layer=29, head=8)), monkeypatch)
    direct = direct_attentions(default_lm, analysis.ids)
    for row, p in zip(result.view.answer_rows, range(analysis.answer_start, len(analysis.ids))):
        assert row == pytest.approx(direct[29, 8, p - 1, :p].tolist(), abs=1e-5)
    rolled = maps.text_attention.rollout(direct)
    for row, p in zip(result.rollout, range(analysis.answer_start, len(analysis.ids))):
        assert row == pytest.approx(rolled[p - 1, :p].tolist(), abs=1e-6)
