"""OpenAIClient without a server (httpx.MockTransport): retries and backoff on 429 / 503 honouring Retry-After,
and the clear errors for each failure. The real-server path is in test_against_vllm.py."""
from __future__ import annotations

import httpx
import pytest

from backend.errors import BackendBusyError, BackendUnavailableError, UserInputError
from backend.served.config import ServedModel
from backend.served.http import OpenAIClient, backoff_delay, retry_after_seconds

SPEC = ServedModel(location="http://engine.test/v1", model="smollm2", max_retries=3, backoff_s=0.5)
MODELS = {"data": [{"id": "smollm2"}, {"id": "other"}]}


def scripted(responses: list[httpx.Response], seen: list[httpx.Request]) -> httpx.MockTransport:
    """A transport answering with `responses` in order (the last one repeats), recording each request."""
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return responses[min(len(seen) - 1, len(responses) - 1)]
    return httpx.MockTransport(handler)


def client_with(responses: list[httpx.Response], spec: ServedModel = SPEC):
    seen: list[httpx.Request] = []
    waits: list[float] = []
    return OpenAIClient(spec, transport=scripted(responses, seen), sleep=waits.append), seen, waits


def test_retry_after_seconds_reads_numbers_and_dates():
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds("0.25") == 0.25
    assert retry_after_seconds("-4") == 0.0
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    assert retry_after_seconds("Thu, 01 Jan 1970 00:00:10 GMT", now=4.0) == pytest.approx(6.0)


def test_backoff_doubles_unless_the_server_says():
    assert [backoff_delay(a, None, 0.5) for a in range(4)] == [0.5, 1.0, 2.0, 4.0]
    assert backoff_delay(3, 7.0, 0.5) == 7.0


def test_503_then_success_retries_with_exponential_backoff():
    client, seen, waits = client_with([httpx.Response(503), httpx.Response(503), httpx.Response(200, json=MODELS)])
    assert client.models() == MODELS["data"]
    assert len(seen) == 3 and waits == [0.5, 1.0]


def test_429_honours_retry_after_then_reports_the_rate_limit():
    client, seen, waits = client_with([httpx.Response(429, headers={"Retry-After": "2"})])
    with pytest.raises(BackendBusyError, match=r"rate-limiting .*\(429\) after 3 retries; wait 2 s") as err:
        client.get("/models")
    assert err.value.retry_after_s == 2.0
    assert len(seen) == 4 and waits == [2.0, 2.0, 2.0]


def test_a_retry_after_longer_than_max_wait_is_not_waited_for():
    client, seen, waits = client_with([httpx.Response(429, headers={"Retry-After": "120"})])
    with pytest.raises(BackendBusyError, match="after 0 retries; wait 120 s") as err:
        client.get("/models")
    assert err.value.retry_after_s == 120.0 and waits == [] and len(seen) == 1


def test_503_after_all_retries_is_unavailable():
    client, _, waits = client_with([httpx.Response(503, json={"message": "loading"})])
    with pytest.raises(BackendUnavailableError, match=r"unavailable \(503\) after 3 retries: loading"):
        client.get("/models")
    assert waits == [0.5, 1.0, 2.0]


def test_other_errors_are_not_retried():
    client, seen, waits = client_with([httpx.Response(400, json={"error": {"message": "max_tokens too big"}})])
    with pytest.raises(UserInputError, match=r"refused the request \(400\): max_tokens too big"):
        client.post("/chat/completions", {"model": "smollm2"})
    assert len(seen) == 1 and waits == []


def test_wrong_model_name_lists_the_served_models():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/models":
            return httpx.Response(200, json=MODELS)
        return httpx.Response(404, json={"message": "The model `nope` does not exist."})
    spec = ServedModel(location="http://engine.test/v1", model="nope")
    client = OpenAIClient(spec, transport=httpx.MockTransport(handler))
    with pytest.raises(UserInputError, match="does not serve a model named 'nope'; it serves 'smollm2', 'other'"):
        client.post("/chat/completions", {"model": "nope"})


def test_connection_failure_and_timeout_are_unavailable():
    def refuse(request):
        raise httpx.ConnectError("refused", request=request)

    def slow(request):
        raise httpx.ReadTimeout("slow", request=request)
    with pytest.raises(BackendUnavailableError, match="cannot reach the server of 'smollm2' at http://engine.test/v1"):
        OpenAIClient(SPEC, transport=httpx.MockTransport(refuse)).get("/models")
    with pytest.raises(BackendUnavailableError, match=r"did not answer in time \(ReadTimeout; connect 5 s, read 120 s"):
        OpenAIClient(SPEC, transport=httpx.MockTransport(slow)).get("/models")


def test_the_key_is_sent_but_never_shown(monkeypatch):
    secret = "sk-test-SECRET-0123456789"
    monkeypatch.setenv("UQLENS_TEST_KEY", secret)
    spec = ServedModel(location="http://engine.test/v1", model="smollm2", api_key_env="UQLENS_TEST_KEY")
    client, seen, _ = client_with([httpx.Response(401, json={"error": {"message": "bad key"}})], spec)
    with pytest.raises(UserInputError) as err:
        client.get("/models")
    assert seen[0].headers["authorization"] == f"Bearer {secret}"
    assert "UQLENS_TEST_KEY" in str(err.value)
    for text in (str(err.value), repr(err.value), repr(spec), repr(client), str(spec.__dict__)):
        assert secret not in text


def test_a_key_echoed_by_the_server_is_blanked(monkeypatch):
    secret = "sk-echoed-0123456789"
    monkeypatch.setenv("UQLENS_TEST_KEY", secret)
    spec = ServedModel(location="http://engine.test/v1", model="smollm2", api_key_env="UQLENS_TEST_KEY")
    client, _, _ = client_with([httpx.Response(400, json={"message": f"bad header Bearer {secret}"})], spec)
    with pytest.raises(UserInputError, match=r"bad header Bearer \*\*\*") as err:
        client.get("/models")
    assert secret not in str(err.value)
