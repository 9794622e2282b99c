"""The service on the real default engine, in-process (TestClient) or as a real uvicorn server on loopback."""
from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from typing import Iterator

import pytest
import uvicorn
from fastapi.testclient import TestClient

from backend.clients.local import LocalClient
from backend.service.app import create_app
from backend.service.settings import ServiceSettings
from backend.store.repository import Store

TOKEN = "s3cret-token"


def wait_ready(client: TestClient, timeout_s: float = 120) -> None:
    """Poll /readyz until the preloaded model is in memory."""
    deadline = time.time() + timeout_s
    while client.get("/readyz").status_code != 200:
        if time.time() > deadline:
            raise TimeoutError("service not ready")
        time.sleep(0.2)


@pytest.fixture(scope="session")
def local_client(engine, tmp_path_factory) -> LocalClient:
    """The engine of the session with a store in a temporary SQLite file."""
    return LocalClient(engine=engine, store=Store(f"sqlite:///{tmp_path_factory.mktemp('store') / 'db.sqlite'}"))


@contextmanager
def make_test_client(local_client: LocalClient, **settings) -> Iterator[TestClient]:
    """A TestClient over a fresh app with the given settings (max_new_tokens 8 unless set), started (its lifespan
    runs the preload) and ready to use for the block."""
    app = create_app(local_client, ServiceSettings(**{"max_new_tokens": 8, **settings}))
    with TestClient(app, raise_server_exceptions=False) as client:
        wait_ready(client)
        yield client


@pytest.fixture(scope="session")
def api(local_client) -> Iterator[TestClient]:
    """The service without a token."""
    with make_test_client(local_client) as client:
        yield client


@contextmanager
def running_server(local_client: LocalClient, **settings) -> Iterator[str]:
    """A real uvicorn server on a free loopback port for the duration of the block; yields its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = create_app(local_client, ServiceSettings(**{"max_new_tokens": 8, **settings}))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not server.started:
        if time.time() > deadline:
            raise TimeoutError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
