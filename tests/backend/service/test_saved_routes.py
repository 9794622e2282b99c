"""The saved routes over HTTP, the same on SQLite and on a real PostgreSQL server (issue 14: no 500 for deep or
non-finite payloads or NUL characters; issue 13: search covers prompts and answers, the kinds that exist)."""
from __future__ import annotations

import json
import uuid
from typing import Iterator

import pytest
from fastapi.testclient import TestClient

from backend.clients.local import LocalClient
from backend.clients.http import HttpClient
from backend.schemas.store import SaveRequest
from backend.service.app import create_app
from backend.service.settings import ServiceSettings
from backend.store.repository import Store
from tests.backend.service.conftest import running_server, wait_ready


@pytest.fixture
def api(database_url) -> Iterator[TestClient]:
    """The service on an empty store (no model preloaded: the saved routes need none)."""
    with TestClient(create_app(LocalClient(store=Store(database_url)), ServiceSettings(preload_model=None)),
                    raise_server_exceptions=False) as client:
        wait_ready(client)
        yield client


def test_the_app_starts_its_preload_when_it_starts_not_when_it_is_made(database_url):
    app = create_app(LocalClient(store=Store(database_url)), ServiceSettings(preload_model=None))
    assert TestClient(app).get("/readyz").json() == {"status": "loading", "detail": None}  # no lifespan: no preload
    with TestClient(app) as started:
        wait_ready(started, timeout_s=30)
        assert started.get("/readyz").json() == {"status": "ready"}


def item(**changes) -> dict:
    """A valid save body with `changes`."""
    return {**dict(id=str(uuid.uuid4()), kind="text", title="T1", notes="", tags=["demo"], model="m",
                   payload={"prompt": "Write a haiku", "generated_text": "An old silent pond"},
                   request={"prompt": "Write a haiku"}), **changes}


def nested(depth: int) -> dict:
    value: object = 1
    for _ in range(depth):
        value = {"a": value}
    return value


def test_round_trip(api):
    body = item()
    saved = api.post("/v1/saved", json=body)
    assert saved.status_code == 200
    assert api.get(f"/v1/saved/{body['id']}").json() == saved.json()
    assert [s["id"] for s in api.get("/v1/saved", params={"tag": "demo"}).json()] == [body["id"]]
    assert api.delete(f"/v1/saved/{body['id']}").status_code == 204
    assert api.get(f"/v1/saved/{body['id']}").status_code == 404


@pytest.mark.parametrize("depth", [65, 256])
def test_a_payload_nested_too_deep_is_refused_and_nothing_is_stored(api, depth):
    body = item(payload=nested(depth))
    answer = api.post("/v1/saved", json=body)
    assert answer.status_code == 422
    assert "64 levels" in json.dumps(answer.json()) and "payload" in json.dumps(answer.json())
    assert api.get(f"/v1/saved/{body['id']}").status_code == 404
    assert api.get("/v1/saved").json() == []


def test_the_deepest_payload_accepted_reads_back(api):
    body = item(payload=nested(62))  # body, payload and 62 levels: the service reads 64
    assert api.post("/v1/saved", json=body).status_code == 200
    assert api.get(f"/v1/saved/{body['id']}").json()["payload"] == body["payload"]


def test_a_nan_in_the_payload_is_refused_naming_where(api):
    body = json.dumps(item(payload={"tokens": [{"prob": float("nan")}]}))
    answer = api.post("/v1/saved", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "payload", "tokens", 0, "prob"]
    assert api.get("/v1/saved").json() == []


@pytest.mark.parametrize("field, value", [("title", "a\x00b"), ("notes", "\x00"), ("model", "m\x00"),
                                          ("tags", ["ge\x00o"])])
def test_a_nul_character_in_a_text_field_is_a_422_naming_it(api, field, value):
    answer = api.post("/v1/saved", json=item(**{field: value}))
    assert answer.status_code == 422
    assert "NUL character" in json.dumps(answer.json())
    assert answer.json()["detail"][0]["loc"][:2] == ["body", field]


def test_nul_in_an_id_or_a_search_never_reaches_the_database(api):
    assert api.post("/v1/saved", json=item(id="\x00")).status_code == 422
    assert api.get("/v1/saved/%00").status_code == 404
    assert api.delete("/v1/saved/%00").status_code == 404
    for params in ({"q": "\x00"}, {"tag": "a\x00"}, {"kind": "\x00"}):
        answer = api.get("/v1/saved", params=params)
        assert answer.status_code == 422 and "NUL character" in answer.json()["detail"]


def test_search_finds_prompts_and_answers_and_kinds_are_those_saved(api):
    haiku = item()
    api.post("/v1/saved", json=haiku)
    api.post("/v1/saved", json=item(kind="audit", title="Geography", request=None,
                                    payload={"items": [{"question": "Capital of Australia?", "answer": "Canberra"}]}))
    assert [s["id"] for s in api.get("/v1/saved", params={"q": "haiku"}).json()] == [haiku["id"]]
    assert [s["id"] for s in api.get("/v1/saved", params={"q": "silent POND"}).json()] == [haiku["id"]]
    assert [s["title"] for s in api.get("/v1/saved", params={"q": "canberra"}).json()] == ["Geography"]
    assert api.get("/v1/saved-kinds").json() == ["audit", "text"]


def test_the_http_client_and_the_in_process_client_agree(database_url):
    local = LocalClient(store=Store(database_url))
    with running_server(local, preload_model=None) as base_url:
        remote = HttpClient(base_url)
        request = SaveRequest(**item(kind="sequence"))
        saved = remote.save(request)
        assert remote.save(request) == saved == local.get_saved(request.id) == remote.get_saved(request.id)
        assert remote.list_saved(query="haiku") == local.list_saved(query="haiku") != []
        assert remote.saved_kinds() == local.saved_kinds() == ["sequence"]
        assert remote.delete_saved(request.id) and not remote.delete_saved(request.id)
