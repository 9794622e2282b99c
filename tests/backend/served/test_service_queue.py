"""The service on a real vLLM: requests on a served model are admitted under their own running limit, so a class
of concurrent users reaches the engine (which batches them) while the in-process queue holds one request."""
from __future__ import annotations

import concurrent.futures

import httpx
import pytest

from backend.clients.local import LocalClient
from backend.engine import Engine
from backend.models.registry import build_registry, parse_served_location
from backend.store.repository import Store
from tests.backend.service.conftest import running_server
from tests.vllm_server import SERVED_NAME

pytestmark = [pytest.mark.slow, pytest.mark.vllm]
USERS = 6


def test_concurrent_users_of_a_served_model_are_all_answered_past_the_in_process_limit(vllm_url, tmp_path,
                                                                                      default_vocab_size):
    registry = build_registry()
    registry.register(parse_served_location(
        "served", f"openai+{vllm_url}#{SERVED_NAME}&vocab_size={default_vocab_size}", "'served'"))
    client = LocalClient(engine=Engine(registry, device="cpu"), store=Store(f"sqlite:///{tmp_path / 'db.sqlite'}"))
    prompts = [f"Name a colour that starts with the letter {letter}." for letter in "BGPRWY"[:USERS]]
    with running_server(client, max_running=1, max_waiting=0, preload_model=None) as url:
        def ask(prompt: str) -> httpx.Response:
            return httpx.post(f"{url}/v1/text", json={"model": "served", "prompt": prompt, "max_new_tokens": 8},
                              timeout=120)

        with concurrent.futures.ThreadPoolExecutor(USERS) as threads:
            responses = list(threads.map(ask, prompts))
    assert [r.status_code for r in responses] == [200] * USERS, [r.text[:200] for r in responses]
    assert [r.json()["prompt"] for r in responses] == prompts
    assert all(r.json()["engine"] == "vllm" and r.json()["tokens"] for r in responses)
