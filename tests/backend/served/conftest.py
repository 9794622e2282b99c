"""The served-model tests' real engine: vLLM's CPU build serving the default model's safetensors conversion,
started once per test session (tests/vllm_server.py); an error, never a skip, when .venv-vllm is missing."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest

from backend.models.registry import build_registry
from backend.models.text_loader import prepare_text_model
from backend.schemas import DEFAULT_TEXT_MODEL
from backend.served.config import ServedModel
from backend.served.http import OpenAIClient
from tests.vllm_server import SERVED_NAME, vllm_server


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
