"""The HTTP service: health, auth, limits, errors, saved items, and agreement with the in-process client."""
from __future__ import annotations

import json
import uuid

import pytest

from backend.errors import BackendUnavailableError, UserInputError
from backend.clients.http import HttpClient
from backend.models.registry import UnknownModelError
from backend.schemas import TextRequest
from backend.schemas.store import SaveRequest
from backend.schemas.text_attention import AttentionViewRequest, TextAttentionRequest
from tests.backend.service.conftest import TOKEN, make_test_client, running_server

pytestmark = pytest.mark.slow
VALID = {"prompt": "What is the capital of France?", "max_new_tokens": 4}


def test_health_routes(api):
    assert api.get("/livez").json() == {"status": "ok"}
    assert api.get("/readyz").json() == {"status": "ready"}


def test_text_analysis_over_http_equals_the_in_process_client(local_client):
    request = TextRequest(prompt="Name a colour.", max_new_tokens=6, do_sample=True, seed=3, temperature=0.9)
    with running_server(local_client) as url:
        over_http = HttpClient(url).analyze_text(request)
    in_process = local_client.analyze_text(request)
    assert over_http.model_dump(exclude={"seconds"}) == in_process.model_dump(exclude={"seconds"})


def test_every_attention_map_over_http_equals_the_in_process_client(local_client):
    analysis = local_client.analyze_text(TextRequest(prompt="Name a fruit.", answer="Apples are sweet."))
    request = TextAttentionRequest(model=analysis.model, ids=analysis.ids, answer_start=analysis.answer_start,
                                   view=AttentionViewRequest(every_map_position=analysis.answer_start + 1))
    with running_server(local_client) as url:
        over_http = HttpClient(url).text_attention(request)
    in_process = local_client.text_attention(request)
    assert len(over_http.view.every_map.maps) == 30 * 9 + 30 + 2
    assert over_http.model_dump(exclude={"seconds"}) == in_process.model_dump(exclude={"seconds"})


def test_saved_items_round_trip_over_http(local_client):
    item = SaveRequest(id=str(uuid.uuid4()), kind="text", title="HTTP round trip", tags=["api"],
                       payload={"answer": "Paris"}, request=VALID)
    with running_server(local_client) as url:
        client = HttpClient(url)
        saved = client.save(item)
        assert client.save(item) == saved  # idempotent retry
        assert client.get_saved(item.id) == saved == local_client.get_saved(item.id)
        assert [s.id for s in client.list_saved(tag="api")] == [item.id]
        assert client.delete_saved(item.id) and not client.delete_saved(item.id)
        assert client.get_saved(item.id) is None


def test_http_client_raises_the_same_errors_as_the_local_one(local_client):
    with running_server(local_client) as url:
        client = HttpClient(url)
        with pytest.raises(UnknownModelError):
            client.analyze_text(TextRequest(prompt="hi", model="no-such-model", max_new_tokens=2))
        with pytest.raises(UserInputError, match="at most 8"):
            client.analyze_text(TextRequest(prompt="hi", max_new_tokens=100))
    with pytest.raises(BackendUnavailableError, match="cannot reach"):
        HttpClient("http://127.0.0.1:9").models()


def test_bearer_token_guards_everything_but_health(local_client):
    with make_test_client(local_client, api_token=TOKEN) as client:
        assert client.get("/livez").status_code == 200 and client.get("/readyz").status_code == 200
        assert client.get("/v1/models").status_code == 401
        assert client.get("/v1/models", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert client.get("/v1/models", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_busy_service_answers_429_with_retry_after(local_client):
    import concurrent.futures

    with running_server(local_client, max_running=1, max_waiting=0, retry_after_s=3) as url:
        import httpx

        def post(_):
            return httpx.post(f"{url}/v1/text", json={**VALID, "max_new_tokens": 8}, timeout=120)

        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            responses = list(pool.map(post, range(6)))
    codes = sorted(r.status_code for r in responses)
    assert 200 in codes and 429 in codes and set(codes) <= {200, 429}
    assert all(r.headers["Retry-After"] == "3" for r in responses if r.status_code == 429)


BAD_REQUESTS = [
    ("malformed JSON", dict(content=b"{not json", headers={"Content-Type": "application/json"}), 422),
    ("wrong content type", dict(content=b"prompt=hi", headers={"Content-Type": "text/plain"}), 422),
    ("extra field", dict(json={**VALID, "unexpected": 1}), 422),
    ("empty prompt", dict(json={**VALID, "prompt": "  "}), 422),
    ("missing prompt", dict(json={"max_new_tokens": 4}), 422),
    ("prompt over the character cap", dict(json={**VALID, "prompt": "a" * 100_001}), 422),
    ("prompt longer than the model reads", dict(json={**VALID, "prompt": "word " * 9000}), 422),
    ("body over the size cap", dict(content=b'{"prompt": "' + b"a" * 1_100_000 + b'"}',
                                    headers={"Content-Type": "application/json"}), 413),
    ("NaN temperature", dict(content=b'{"prompt": "hi", "temperature": NaN}',
                             headers={"Content-Type": "application/json"}), 422),
    ("negative max_new_tokens", dict(json={**VALID, "max_new_tokens": -1}), 422),
    ("huge max_new_tokens", dict(json={**VALID, "max_new_tokens": 10**9}), 422),
    ("huge top_k", dict(json={**VALID, "top_k": 10**6}), 422),
    ("wrong type", dict(json={**VALID, "max_new_tokens": "many"}), 422),
    ("path-like model id", dict(json={**VALID, "model": "../../etc/passwd"}), 404),
    ("absolute path model id", dict(json={**VALID, "model": "/root/.cache/model"}), 404),
]


@pytest.mark.parametrize("name, kwargs, status", BAD_REQUESTS, ids=[b[0] for b in BAD_REQUESTS])
def test_bad_input_gets_its_documented_4xx_then_a_valid_request_succeeds(api, name, kwargs, status):
    response = api.post("/v1/text", **kwargs)
    assert response.status_code == status, response.text
    assert response.json()["detail"]
    assert api.post("/v1/text", json=VALID).status_code == 200


@pytest.mark.parametrize("path, params, status", [
    ("/v1/saved/not-there", None, 404),
    ("/v1/saved", {"limit": 0}, 422),
    ("/v1/saved", {"limit": 10**6}, 422),
    ("/v1/saved", {"q": "x" * 300}, 422),
])
def test_saved_routes_reject_bad_queries(api, path, params, status):
    assert api.get(path, params=params).status_code == status


def test_bad_saves_get_4xx(api):
    item = {"id": str(uuid.uuid4()), "kind": "text", "title": "x", "payload": {"a": 1}}
    assert api.post("/v1/saved", json={**item, "id": "not-a-uuid"}).status_code == 422
    assert api.post("/v1/saved", json={**item, "title": ""}).status_code == 422
    assert api.post("/v1/saved", json=item).status_code == 200
    assert api.post("/v1/saved", json={**item, "payload": {"a": 2}}).status_code == 409


def test_openapi_documents_every_route(api):
    paths = api.get("/openapi.json").json()["paths"]
    assert {"/livez", "/readyz", "/v1/models", "/v1/text", "/v1/saved", "/v1/saved/{item_id}"} <= set(paths)
    assert json.dumps(paths["/v1/text"]).count("429") >= 1


def test_gpu_out_of_memory_answers_503_lets_the_kept_attention_go_and_the_next_request_runs(local_client,
                                                                                             monkeypatch):
    import torch

    analysis = local_client.analyze_text(TextRequest(prompt="Hi", answer="Hello!"))
    local_client.text_attention(TextAttentionRequest(model=analysis.model, ids=analysis.ids,
                                                     answer_start=analysis.answer_start))
    kept = local_client.engine.pool.kept_attention(analysis.model)
    assert kept.key == tuple(analysis.ids)
    real = local_client.analyze_text
    calls = []

    def out_of_memory_once(request):
        calls.append(request)
        if len(calls) == 1:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(request)

    monkeypatch.setattr(local_client, "analyze_text", out_of_memory_once)
    with make_test_client(local_client) as api:
        first = api.post("/v1/text", json=VALID)
        assert first.status_code == 503 and "out of memory" in first.json()["detail"]
        assert first.headers["Retry-After"] and kept.key is None
        assert api.post("/v1/text", json=VALID).status_code == 200
