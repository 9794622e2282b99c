"""POST /v1/text/stream: NDJSON events while the answer is generated, a last analysis equal to POST /v1/text's,
a stop request that keeps the tokens so far, and refusals before the stream begins."""
from __future__ import annotations

import json
import time

import pytest

from backend.budget import Budget, WorkCancelled, run_under
from backend.clients.http import HttpClient
from backend.errors import UserInputError
from backend.schemas import TextRequest
from tests.backend.service.conftest import running_server

BODY = {"prompt": "Name three rivers of Europe.", "max_new_tokens": 8}


def events(response) -> list[dict]:
    return [json.loads(text) for text in response.iter_lines() if text.strip()]


def without_time(analysis: dict) -> dict:
    return {k: v for k, v in analysis.items() if k != "seconds"}


def test_the_stream_sends_each_token_then_the_analysis_post_v1_text_gives(api):
    with api.stream("POST", "/v1/text/stream", json=BODY) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("application/x-ndjson")
        got = events(response)
    kinds = [e["event"] for e in got]
    assert kinds[0] == "started" and kinds[-1] == "analysis" and set(kinds[1:-1]) == {"token"}
    analysis = got[-1]["analysis"]
    assert without_time(analysis) == without_time(api.post("/v1/text", json=BODY).json())
    streamed = [e["token"] for e in got if e["event"] == "token"]
    assert [t["position"] for t in streamed] == [t["position"] for t in analysis["tokens"]]
    assert [t["id"] for t in streamed] == [t["id"] for t in analysis["tokens"]]
    for live, done in zip(streamed, analysis["tokens"]):
        assert live["prob"] == pytest.approx(done["prob"], abs=1e-4)
        assert live["entropy"] == pytest.approx(done["entropy"], abs=1e-4)


def test_refusals_come_before_the_stream_as_post_v1_text_gives_them(api):
    too_long = api.post("/v1/text/stream", json={**BODY, "max_new_tokens": 9})
    assert too_long.status_code == 422 and "at most 8" in too_long.json()["detail"]
    assert api.post("/v1/text/stream", json={**BODY, "temperature": 0}).status_code == 422


def test_an_unknown_model_ends_the_stream_with_its_404(api):
    with api.stream("POST", "/v1/text/stream", json={**BODY, "model": "no-such-model"}) as response:
        got = events(response)
    assert got[-1]["event"] == "error" and got[-1]["status"] == 404


def test_stopping_an_unknown_stream_is_a_404_naming_it(api):
    response = api.post("/v1/text/stream/stop", json={"stream_id": "nope"})
    assert response.status_code == 404 and "'nope'" in response.json()["detail"]


@pytest.fixture(scope="module")
def server(local_client):
    with running_server(local_client, max_new_tokens=64) as url:
        yield url


def test_a_stop_request_ends_generation_and_the_analysis_is_of_the_tokens_so_far(server, local_client):
    client = HttpClient(server)
    seen = []
    request = TextRequest(**{**BODY, "max_new_tokens": 64})
    stopped = client.stream_text(request, on_token=seen.append, should_stop=lambda: len(seen) >= 3)
    assert stopped.stop_reason == "stopped" and 3 <= len(stopped.tokens) < 64
    assert [t.position for t in seen] == [t.position for t in stopped.tokens]
    scored = local_client.analyze_text(request.model_copy(update={"answer": stopped.generated_text}))
    assert scored.ids == stopped.ids
    assert [t.prob for t in stopped.tokens] == pytest.approx([t.prob for t in scored.tokens], abs=1e-6)


def test_the_http_client_streams_the_same_analysis_as_analyze_text(server):
    client = HttpClient(server)
    request = TextRequest(**BODY, do_sample=True, temperature=0.8, seed=5)
    seen = []
    streamed = client.stream_text(request, on_token=seen.append)
    assert streamed.model_dump(exclude={"seconds"}) == client.analyze_text(request).model_dump(exclude={"seconds"})
    assert len(seen) == len(streamed.tokens)


def test_a_cancelled_reader_closes_the_stream_and_the_service_is_free_again(server):
    client = HttpClient(server)
    budget = Budget()
    request = TextRequest(prompt="Tell me a very long story.", max_new_tokens=64, do_sample=True, temperature=5.0)
    with pytest.raises(WorkCancelled):
        run_under(budget, client.stream_text, request, lambda _token: budget.cancel("test"))
    deadline = time.time() + 30
    while True:  # the service's single in-process slot is released once the work saw the cancel
        try:
            assert client.analyze_text(TextRequest(**BODY)).tokens
            break
        except Exception:
            if time.time() > deadline:
                raise
            time.sleep(0.5)
    with pytest.raises(UserInputError):
        client.stream_text(TextRequest(**{**BODY, "max_new_tokens": 65}))
