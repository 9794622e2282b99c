"""A served text model in the pool: its engine's client, no weights; its in-process parts refuse with a
UserInputError (the service's 4xx) saying they need a model in UQ Lens's process."""
from __future__ import annotations

import pytest

from backend.errors import UserInputError
from backend.models.pool import ModelPool
from backend.models.registry import build_registry
from backend.served.http import OpenAIClient
from backend.served.model import ServedTextModel

SERVED = "big=openai+http://127.0.0.1:9/v1#served-name&vocab_size=100"


def test_the_pool_loads_a_served_model_as_its_client_without_a_request(tmp_path):
    pool = ModelPool(build_registry({"UQLENS_TEXT_MODELS": SERVED}), cache_dir=tmp_path, device="cpu")
    served = pool.text("big")
    assert isinstance(served, ServedTextModel) and isinstance(served.client, OpenAIClient)
    assert served.client.spec.model == "served-name" and served.device == "vllm at http://127.0.0.1:9/v1"
    assert pool.text("big") is served and pool.loaded_ids() == ["big"]


@pytest.mark.parametrize("part", ["model", "tokenizer", "max_length", "kept_attention"])
def test_in_process_parts_of_a_served_model_say_they_need_the_process(tmp_path, part):
    pool = ModelPool(build_registry({"UQLENS_TEXT_MODELS": SERVED}), cache_dir=tmp_path, device="cpu")
    with pytest.raises(UserInputError, match="needs a model loaded in UQ Lens's process; 'big' is served"):
        getattr(pool.text("big"), part)
