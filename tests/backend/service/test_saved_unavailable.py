"""A PostgreSQL server stopped while the service runs (issue 14): the saved routes answer 503 naming the database
(password hidden) instead of 500, /readyz follows the database down and up, and nothing saved is lost. The test
stops and starts a PostgreSQL server of its own, never the session's shared one."""
from __future__ import annotations

import os
import time
import uuid

import pytest
from fastapi.testclient import TestClient

from backend.audit.store import AuditStore
from backend.clients.local import LocalClient
from backend.errors import StoreUnavailableError
from backend.service.app import Readiness, create_app
from backend.service.settings import ServiceSettings
from backend.store.repository import Store, describe_url
from tests.postgres import SKIP_VARIABLE, start_postgres


@pytest.fixture(scope="module")
def own_server():
    """A second PostgreSQL server, for this module to stop and start."""
    if os.environ.get(SKIP_VARIABLE) == "1":
        pytest.skip(f"{SKIP_VARIABLE}=1: the PostgreSQL tests are skipped on request")
    server = start_postgres()
    yield server
    server.remove()


def wait_for_readyz(api: TestClient, status: int, timeout_s: float = 30) -> dict:
    """Poll /readyz (pinged at most every 2 s) until it answers `status`; its body."""
    deadline = time.monotonic() + timeout_s
    while True:
        answer = api.get("/readyz")
        if answer.status_code == status or time.monotonic() > deadline:
            assert answer.status_code == status, answer.json()
            return answer.json()
        time.sleep(0.2)


def item() -> dict:
    return dict(id=str(uuid.uuid4()), kind="text", title="kept", payload={"prompt": "p", "generated_text": "a"})


def test_a_stopped_database_is_a_503_that_names_it_and_readyz_follows(own_server):
    url = own_server.new_database()
    with TestClient(create_app(LocalClient(store=Store(url)), ServiceSettings(preload_model=None)),
                    raise_server_exceptions=False) as api:
        kept = item()
        assert api.post("/v1/saved", json=kept).status_code == 200
        assert wait_for_readyz(api, 200) == {"status": "ready"}

        own_server.stop()
        try:
            named = f"the database at postgresql://postgres@127.0.0.1:{own_server.port}/{url.rsplit('/', 1)[1]}"
            for answer in (api.post("/v1/saved", json=item()), api.get("/v1/saved"),
                           api.get(f"/v1/saved/{kept['id']}"), api.delete(f"/v1/saved/{kept['id']}"),
                           api.get("/v1/saved-kinds")):
                assert answer.status_code == 503, answer.text
                assert answer.json()["detail"].startswith(f"{named} is not reachable: ")
                assert answer.json()["detail"].endswith("retry when it is back")
                assert int(answer.headers["Retry-After"]) >= 1
            body = wait_for_readyz(api, 503)
            assert body["status"] == "database unreachable" and body["detail"].startswith(named)
        finally:
            own_server.start()

        wait_for_readyz(api, 200)
        assert api.get(f"/v1/saved/{kept['id']}").json()["title"] == "kept"
        assert api.post("/v1/saved", json=item()).status_code == 200


def test_a_store_opened_while_its_database_is_down_works_once_it_is_up(own_server):
    url = own_server.new_database()
    own_server.stop()
    try:
        store = Store(url)
        with pytest.raises(StoreUnavailableError, match="retry when it is back"):
            store.list()
        with pytest.raises(StoreUnavailableError):
            store.ping()
        with pytest.raises(StoreUnavailableError, match="is not reachable"):
            AuditStore(url)  # opened through the same open_database
    finally:
        own_server.start()
    store.ping()
    assert store.list() == []


def test_the_password_never_shows_in_a_message():
    described = describe_url("postgresql+psycopg://uq:s3cret@db.example:5433/lens")
    assert described == "postgresql://uq:***@db.example:5433/lens"


def test_readiness_asks_the_database_at_most_once_per_interval():
    calls = []

    def ping() -> None:
        calls.append(1)
        if len(calls) > 1:
            raise StoreUnavailableError("the database at sqlite:///x is not reachable: gone; retry when it is back")

    cached = Readiness(ping=ping, check_every_s=3600)
    assert cached.database_error() is None and cached.database_error() is None and len(calls) == 1
    every_time = Readiness(ping=ping, check_every_s=0)
    assert every_time.database_error().endswith("retry when it is back") and len(calls) == 2
    assert Readiness().database_error() is None
