"""Attention maps of an analysed sequence: rows sum to 1 and equal a direct transformers forward's attentions."""
from __future__ import annotations

import pytest
import torch
from pydantic import ValidationError

from backend.errors import UserInputError
from backend.schemas import TextRequest
from backend.schemas.text_attention import AttentionViewRequest, TextAttentionRequest
from backend.text.attention import attention_maps
from backend.text.generation import analyze_text

PROMPT = "What is the capital of France?"


@pytest.fixture(scope="module")
def analysis(tiny_lm):
    return analyze_text(tiny_lm, TextRequest(model="tiny-random", prompt=PROMPT, max_new_tokens=6))


def direct_attentions(lm, ids) -> torch.Tensor:
    """(L, H, T, T) from our own transformers forward."""
    with torch.no_grad():
        out = lm.model(input_ids=torch.tensor([ids]), output_attentions=True)
    return torch.stack([a[0] for a in out.attentions]).double()


def request(analysis, **view) -> TextAttentionRequest:
    return TextAttentionRequest(model=analysis.model, ids=analysis.ids, answer_start=analysis.answer_start,
                                view=AttentionViewRequest(**view) if view else None)


def test_answer_rows_sum_to_one_and_match_the_model(tiny_lm, analysis):
    result = attention_maps(tiny_lm, request(analysis, aggregation="head", layer=1, head=2))
    direct = direct_attentions(tiny_lm, analysis.ids)
    positions = range(analysis.answer_start, len(analysis.ids))
    assert (result.n_layers, result.n_heads) == (2, 4)
    for rows in (result.rollout, result.last_layer_head_mean, result.view.answer_rows):
        assert [len(r) for r in rows] == list(positions)
        assert [sum(r) for r in rows] == pytest.approx([1.0] * len(rows), abs=1e-5)
    for row, p in zip(result.view.answer_rows, positions):
        assert row == pytest.approx(direct[1, 2, p - 1, :p].tolist(), abs=1e-6)
    for row, p in zip(result.last_layer_head_mean, positions):
        assert row == pytest.approx(direct[-1, :, p - 1, :p].mean(dim=0).tolist(), abs=1e-6)


def test_matrix_window_and_head_grid(tiny_lm, analysis):
    result = attention_maps(tiny_lm, request(analysis, aggregation="head_mean", layer=0, window_start=3,
                                             window_size=8, thumbnail=4))
    direct = direct_attentions(tiny_lm, analysis.ids)
    matrix = result.view.matrix
    assert matrix.start == 3 and matrix.positions == list(range(3, 11)) and len(matrix.labels) == 8
    assert torch.tensor(matrix.values).numpy() == pytest.approx(direct[0, :, 3:11, 3:11].mean(dim=0).numpy(), abs=1e-6)
    grid = torch.tensor(result.view.grid.values)
    assert grid.shape == (2, 4, 4, 4)
    assert float(grid[1, 3].mean()) == pytest.approx(float(direct[1, 3, 3:11, 3:11].mean()), abs=1e-4)
    assert result.view.label == "layer 1, mean of heads"


def test_window_defaults_to_the_end_and_is_clamped(tiny_lm, analysis):
    size = len(analysis.ids)
    assert attention_maps(tiny_lm, request(analysis, window_size=4)).view.matrix.start == size - 4
    assert attention_maps(tiny_lm, request(analysis, window_size=4, window_start=10_000)).view.matrix.start == size - 4


def test_word_matrix_rows_still_sum_to_one(tiny_lm, analysis):
    result = attention_maps(tiny_lm, request(analysis, aggregation="rollout", granularity="word", window_start=0,
                                             window_size=256))
    words = {t.word for t in result.tokens}
    matrix = result.view.matrix
    assert len(matrix.labels) == len(words) and matrix.granularity == "word"
    assert [sum(r) for r in matrix.values] == pytest.approx([1.0] * len(words), abs=1e-9)
    assert "".join(matrix.labels) == "".join(t.text for t in result.tokens)


def test_token_kinds_mark_the_users_words(tiny_lm, analysis):
    result = attention_maps(tiny_lm, request(analysis))
    prompt = "".join(t.text for t in result.tokens if t.kind == "prompt")
    assert prompt == PROMPT
    assert all(t.kind == "answer" for t in result.tokens[analysis.answer_start:])
    assert result.tokens[0].kind == "template" and result.tokens[0].special


def test_without_the_chat_template_every_ordinary_input_token_is_prompt(tiny_lm):
    raw = analyze_text(tiny_lm, TextRequest(model="tiny-random", prompt=PROMPT, chat_template=False, answer=" Paris"))
    tokens = attention_maps(tiny_lm, request(raw)).tokens
    assert {t.kind for t in tokens[:raw.answer_start] if not t.special} == {"prompt"}
    assert tokens[raw.answer_start].word != tokens[raw.answer_start - 1].word


def test_bad_requests_say_what_to_change(tiny_lm, analysis):
    with pytest.raises(UserInputError, match="layers 0..1 and heads 0..3"):
        attention_maps(tiny_lm, request(analysis, aggregation="head", layer=5))
    with pytest.raises(UserInputError, match="not in the vocabulary"):
        attention_maps(tiny_lm, TextAttentionRequest(model="tiny-random", ids=[1, 10**7], answer_start=1))
    with pytest.raises(ValidationError, match="no answer to explain"):
        TextAttentionRequest(model="tiny-random", ids=[1, 2], answer_start=2)
    with pytest.raises(ValidationError, match="less than or equal to 256"):
        AttentionViewRequest(window_size=10_000)


@pytest.mark.slow
def test_default_model_rows_sum_to_one_and_match_a_direct_forward(default_lm):
    analysis = analyze_text(default_lm, TextRequest(prompt=PROMPT, max_new_tokens=8))
    result = attention_maps(default_lm, request(analysis, aggregation="head", layer=29, head=8))
    direct = direct_attentions(default_lm, analysis.ids)
    assert (result.n_layers, result.n_heads) == (30, 9)
    assert [sum(r) for r in result.rollout] == pytest.approx([1.0] * len(result.rollout), abs=1e-5)
    for row, p in zip(result.view.answer_rows, range(analysis.answer_start, len(analysis.ids))):
        assert sum(row) == pytest.approx(1.0, abs=1e-5)
        assert row == pytest.approx(direct[29, 8, p - 1, :p].tolist(), abs=1e-5)


def test_changing_the_view_of_the_same_sequence_does_not_run_the_model_again(tiny_lm, analysis):
    tiny_lm.kept_attention.clear()
    runs = []
    hook = tiny_lm.model.register_forward_hook(lambda *_: runs.append(1))
    try:
        first = attention_maps(tiny_lm, request(analysis, aggregation="head", layer=0, head=1))
        second = attention_maps(tiny_lm, request(analysis, aggregation="rollout"))
        assert len(runs) == 1
        attention_maps(tiny_lm, request(analysis, aggregation="head", layer=0, head=1))
        assert len(runs) == 1
        attention_maps(tiny_lm, TextAttentionRequest(model=analysis.model, ids=analysis.ids[:-1],
                                                     answer_start=analysis.answer_start))
        assert len(runs) == 2
        assert tiny_lm.kept_attention.key == tuple(analysis.ids[:-1])  # the model keeps its last sequence only
    finally:
        hook.remove()
    assert first.rollout == second.rollout
    direct = direct_attentions(tiny_lm, analysis.ids)
    assert first.view.answer_rows[0] == pytest.approx(direct[0, 1, analysis.answer_start - 1,
                                                             :analysis.answer_start].tolist(), abs=1e-5)


def test_attention_weights_past_the_budget_are_refused_before_the_pass(tiny_lm, monkeypatch):
    import backend.text.attention as maps

    monkeypatch.setattr(maps, "ATTENTION_BUDGET_BYTES", 2 * 4 * 4 * 40 * 40)  # layers x heads x float32 x 40 x 40
    assert maps.attention_weights(tiny_lm, list(range(1, 41))).shape == (2, 4, 40, 40)
    with pytest.raises(UserInputError, match="attention maps of 41 tokens .* at most 40 tokens"):
        maps.attention_weights(tiny_lm, list(range(1, 42)))
