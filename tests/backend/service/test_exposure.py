"""With a token set, nothing but the health probes answers without it: not the docs, not the schema, and no
request body is read before the token is checked."""
from __future__ import annotations

import asyncio

import httpx
import pytest

from backend.service.app import create_app
from backend.service.settings import ServiceSettings
from tests.backend.service.conftest import TOKEN, make_test_client, running_server
from tests.backend.service.test_refusals import chunks

pytestmark = pytest.mark.slow
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def guarded_api(local_client):
    """The service with a token, nothing preloaded."""
    with make_test_client(local_client, preload_model=None, api_token=TOKEN) as client:
        yield client


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect", "/v1/models",
                                  "/v1/saved", "/no-such-route"])
def test_docs_schema_and_routes_need_the_token(guarded_api, path):
    refused = guarded_api.get(path)
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"] == "Bearer"
    assert "Authorization: Bearer" in refused.json()["detail"]
    assert guarded_api.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert guarded_api.get(path, headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
    assert guarded_api.get(path, headers=AUTH).status_code == (404 if path == "/no-such-route" else 200)


def test_health_probes_stay_open(guarded_api):
    assert guarded_api.get("/livez").status_code == 200
    assert guarded_api.get("/readyz").status_code == 200


def asgi_post(app, path: str, headers: list[tuple[bytes, bytes]], body_bytes: int) -> tuple[int, int]:
    """POST to the ASGI app directly, offering a `body_bytes` body in 1 MiB chunks; (status, chunks it read)."""
    chunk = b" " * (1 << 20)
    chunks = body_bytes // len(chunk)
    reads = 0
    statuses = []

    async def receive():
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": chunk, "more_body": reads < chunks}

    async def send(message):
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
             "headers": [(b"content-type", b"application/json"),
                         (b"content-length", str(chunks * len(chunk)).encode()), *headers],
             "server": ("testserver", 80), "client": ("testclient", 1)}
    asyncio.run(app(scope, receive, send))
    return statuses[0], reads


def test_the_token_is_checked_before_the_body_is_read(local_client):
    app = create_app(local_client, ServiceSettings(api_token=TOKEN, preload_model=None))
    assert asgi_post(app, "/v1/image", [], 28 << 20) == (401, 0)
    assert asgi_post(app, "/v1/text", [(b"authorization", b"Bearer wrong")], 28 << 20) == (401, 0)
    status, reads = asgi_post(app, "/v1/image", [(b"authorization", f"Bearer {TOKEN}".encode())], 28 << 20)
    assert status == 422 and reads == 28  # with the token the body is read (and refused: spaces are not JSON)


def test_over_real_http_a_large_body_gets_401_without_the_token_and_413_over_the_cap(local_client):
    json_type = {"Content-Type": "application/json"}
    with running_server(local_client, api_token=TOKEN, preload_model=None) as url:
        refused = httpx.post(f"{url}/v1/image", content=b" " * (28 << 20), headers=json_type, timeout=60)
        assert refused.status_code == 401
        streamed = httpx.post(f"{url}/v1/image", content=chunks(50_000_000), headers={**json_type, **AUTH},
                              timeout=60)
        assert streamed.status_code == 413 and "UQLENS_MAX_IMAGE_BODY_BYTES" in streamed.json()["detail"]
