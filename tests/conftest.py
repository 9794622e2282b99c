"""Shared fixtures: the real default engine (loaded once per session), a tiny random causal LM, a real PostgreSQL
and a real vLLM server (vLLM's CPU build serving the default model's safetensors conversion, started once per
session by tests/vllm_server.py; an error, never a skip, when .venv-vllm is missing)."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Iterator

import pytest
import torch
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

from backend.engine import Engine
from backend.models.registry import ModelSpec, build_registry
from backend.models.text_loader import LoadedTextModel, converted_dir, prepare_text_model
from backend.schemas import DEFAULT_TEXT_MODEL
from backend.served.config import ServedModel
from backend.served.http import OpenAIClient
from tests.vllm_server import SERVED_NAME, vllm_server


def pytest_configure(config) -> None:
    """Saved analyses and uploaded audit datasets of a test run go to a throw-away folder, never to the user's
    data/ folder."""
    folder = tempfile.mkdtemp(prefix="uqlens-tests-")
    os.environ.setdefault("UQLENS_DATABASE_URL", f"sqlite:///{folder}/saved.sqlite")
    os.environ.setdefault("UQLENS_UPLOAD_DIR", f"{folder}/uploads")


@pytest.fixture(scope="session")
def engine() -> Engine:
    """The engine on the real embedded default models, CPU, shared by every test of the session."""
    return Engine(device="cpu")


@pytest.fixture(scope="session")
def default_lm(engine: Engine) -> LoadedTextModel:
    """SmolLM2-135M-Instruct as the engine loads it."""
    return engine.text_model(DEFAULT_TEXT_MODEL)


@pytest.fixture(scope="session")
def default_tokenizer(engine: Engine):
    """The default model's tokenizer (from the converted cache), without loading its weights."""
    spec = build_registry().get(DEFAULT_TEXT_MODEL)
    prepare_text_model(spec, engine.cache_dir)
    return AutoTokenizer.from_pretrained(converted_dir(engine.cache_dir, spec))


@pytest.fixture(scope="session")
def tiny_lm(default_tokenizer) -> LoadedTextModel:
    """A seeded random 2-layer Llama with the default tokenizer's vocabulary: fast, deterministic numbers."""
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(default_tokenizer), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=256, eos_token_id=default_tokenizer.eos_token_id,
                         bos_token_id=default_tokenizer.bos_token_id, attn_implementation="eager")
    model = LlamaForCausalLM(config).eval()
    spec = ModelSpec("tiny-random", "text", "hf", "(in memory)", "tiny random Llama for unit tests", chat=True)
    return LoadedTextModel(spec=spec, model=model, tokenizer=default_tokenizer, device="cpu")


@pytest.fixture(scope="session")
def tiny_embedder(tmp_path_factory):
    """A seeded random 2-layer BERT sentence encoder (mean pooling), loaded like any registered embedding model."""
    from backend.models.embedding_loader import load_embedding_model
    from tests.backend.tiny_models import save_tiny_encoder

    folder = save_tiny_encoder(tmp_path_factory.mktemp("tiny-embedder"))
    spec = ModelSpec("tiny-embedder", "embedding", "sentence-transformers", str(folder), "tiny random encoder")
    return load_embedding_model(spec, "cpu")


@pytest.fixture(scope="session")
def tiny_nli_folder(tmp_path_factory):
    """A folder holding a seeded random 2-layer BERT NLI classifier (entailment / neutral / contradiction)."""
    from tests.backend.tiny_models import save_tiny_nli

    return save_tiny_nli(tmp_path_factory.mktemp("tiny-nli"))


@pytest.fixture(scope="session")
def default_image_model(engine):
    """EfficientNet-Lite0 as the engine loads it (CPU)."""
    from backend.schemas import DEFAULT_IMAGE_MODEL

    return engine.image_model(DEFAULT_IMAGE_MODEL)


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server on a loopback port for the whole session (tests/postgres.py), stopped at the end.
    It fails the test when it cannot start; only UQLENS_TEST_NO_POSTGRES=1 skips the PostgreSQL tests."""
    from tests.postgres import SKIP_VARIABLE, start_postgres

    if os.environ.get(SKIP_VARIABLE) == "1":
        pytest.skip(f"{SKIP_VARIABLE}=1: the PostgreSQL tests are skipped on request")
    server = start_postgres()
    yield server
    server.remove()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """The URL of an empty database, once on SQLite (a file in tmp_path) and once on the session's PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    return request.getfixturevalue("postgres_server").new_database()


@pytest.fixture(scope="session")
def default_model_dir(engine) -> Path:
    """The default text model's safetensors conversion in the engine's cache (made once if missing)."""
    return Path(prepare_text_model(build_registry().get(DEFAULT_TEXT_MODEL), engine.cache_dir))


@pytest.fixture(scope="session")
def vllm_url(default_model_dir: Path) -> Iterator[str]:
    """Base URL (ending /v1) of a vLLM server serving the default text model as SERVED_NAME."""
    with vllm_server(default_model_dir) as url:
        yield url


@pytest.fixture(scope="session")
def default_vocab_size(default_model_dir: Path) -> int:
    """The default model's logits width, from the config.json vLLM serves."""
    return json.loads((default_model_dir / "config.json").read_text())["vocab_size"]


@pytest.fixture(scope="session")
def served(vllm_url: str, default_vocab_size: int) -> Iterator[OpenAIClient]:
    """A client of the served default model."""
    with OpenAIClient(ServedModel(location=vllm_url, model=SERVED_NAME, vocab_size=default_vocab_size)) as client:
        yield client
