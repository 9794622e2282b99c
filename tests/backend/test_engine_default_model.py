"""The engine on the real default model (SmolLM2-135M-Instruct): answers, exact numbers, model reuse, errors."""
from __future__ import annotations

import pytest
import torch

from backend.engine import Engine
from backend.errors import ModelLoadError, UserInputError
from backend.models.registry import ModelRegistry, ModelSpec, UnknownModelError
from backend.schemas import DEFAULT_EMBEDDING_MODEL, DEFAULT_IMAGE_MODEL, DEFAULT_TEXT_MODEL, TextRequest
from backend.text.generation import build_model_input

pytestmark = pytest.mark.slow

QUESTION = "What is the capital of France?"


@pytest.fixture(scope="module")
def france(engine, default_lm):
    return engine.analyze_text(TextRequest(prompt=QUESTION, max_new_tokens=16))


def test_default_model_knows_the_capital_of_france(france):
    assert france.model == DEFAULT_TEXT_MODEL
    assert france.mode == "generate"
    assert france.chat_template is True
    assert france.device == "cpu"
    assert "Paris" in france.generated_text
    assert len(france.tokens) <= 16


def test_default_model_numbers_equal_a_direct_forward(default_lm, france):
    _, input_ids, _ = build_model_input(default_lm, QUESTION, None)
    ids = input_ids + [t.id for t in france.tokens]
    with torch.inference_mode():
        logits = default_lm.model(input_ids=torch.tensor([ids])).logits[0, :-1]
    logprobs = torch.log_softmax(logits.to(torch.float64), dim=-1)
    for token in france.tokens + france.prompt_tokens:
        row = logprobs[token.position - 1]
        chosen = row[token.id]
        assert token.id == ids[token.position]
        assert token.logprob == pytest.approx(chosen.item(), abs=1e-4)
        assert token.prob == pytest.approx(chosen.exp().item(), abs=1e-4)
        assert token.entropy == pytest.approx(-(row.exp() * row).sum().item(), abs=1e-4)
        assert token.rank == int((row > chosen).sum()) + 1
        top_lp, top_ids = row.topk(5)
        assert [a.id for a in token.top_k] == top_ids.tolist()
        assert [a.prob for a in token.top_k] == pytest.approx(top_lp.exp().tolist(), abs=1e-4)


def test_default_model_greedy_answer_is_rank_one_throughout(france):
    assert all(t.rank == 1 for t in france.tokens)


def test_paris_token_is_confident(france):
    paris = next(t for t in france.tokens if "Paris" in t.text)
    assert paris.prob > 0.5
    assert paris.rank == 1


def test_engine_lists_the_default_models(engine):
    infos = {info.id: info for info in engine.models()}
    assert {DEFAULT_TEXT_MODEL, DEFAULT_IMAGE_MODEL, DEFAULT_EMBEDDING_MODEL} <= set(infos)
    assert infos[DEFAULT_TEXT_MODEL].default is True
    assert infos[DEFAULT_TEXT_MODEL].kind == "text"


@pytest.mark.parametrize("model_id", [DEFAULT_IMAGE_MODEL, DEFAULT_EMBEDDING_MODEL])
def test_text_model_on_a_non_text_id_raises_user_input_error(engine, model_id):
    with pytest.raises(UserInputError, match="pick a text model") as info:
        engine.text_model(model_id)
    assert DEFAULT_TEXT_MODEL in str(info.value)


def test_unknown_model_id_raises_unknown_model_error(engine):
    with pytest.raises(UnknownModelError, match=DEFAULT_TEXT_MODEL):
        engine.text_model("no-such-model")
    with pytest.raises(UnknownModelError):
        engine.analyze_text(TextRequest(model="no-such-model", prompt=QUESTION))


def test_second_request_reuses_the_loaded_model(engine, default_lm, france):
    assert engine.text_model(DEFAULT_TEXT_MODEL) is default_lm
    result = engine.analyze_text(TextRequest(prompt="Hi", answer="Hello!"))
    assert result.mode == "score"
    assert engine.text_model(DEFAULT_TEXT_MODEL) is default_lm
    assert engine.model_lock(DEFAULT_TEXT_MODEL) is engine.model_lock(DEFAULT_TEXT_MODEL)


@pytest.mark.parametrize("loader, location", [("hf", "/no/such/folder"), ("gguf", "/no/such/model.gguf")])
def test_missing_weights_raise_model_load_error_naming_the_model(tmp_path, loader, location):
    registry = ModelRegistry()
    registry.register(ModelSpec("missing-lm", "text", loader, location, "weights that are not there"))
    engine = Engine(registry=registry, cache_dir=tmp_path, device="cpu")
    with pytest.raises(ModelLoadError, match="missing-lm") as info:
        engine.text_model("missing-lm")
    assert location in str(info.value)
