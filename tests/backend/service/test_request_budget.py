"""Every request's cost is bounded: a client that leaves stops its work, a deadline stops it, admission counts
the work queued, and one request may not claim more than its cap."""
from __future__ import annotations

import asyncio
import logging
import time

import httpx
import pytest

from backend.errors import BackendBusyError
from backend.service.admission import Admission
from backend.service.cost import request_cost
from backend.schemas import TextRequest
from backend.schemas.audit import AuditRequest
from backend.schemas.sequence import SequenceRequest
from tests.backend.service.conftest import make_test_client, running_server

LONG_SAMPLED = {"prompt": "Tell me a very long story about a dragon.", "max_new_tokens": 256, "do_sample": True,
                "temperature": 5.0, "seed": 1}  # at temperature 5 an end token is unlikely: 256 tokens to make


def wait_for_record(caplog, text: str, timeout_s: float) -> logging.LogRecord | None:
    """The first log record containing `text`, waiting up to timeout_s for it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for record in caplog.records:
            if text in record.getMessage():
                return record
        time.sleep(0.1)
    return None


def test_a_request_whose_client_disconnects_stops_and_frees_the_model(local_client, caplog):
    caplog.set_level(logging.INFO, logger="backend.service.work")
    with running_server(local_client, max_new_tokens=256) as url:
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(f"{url}/v1/text", json=LONG_SAMPLED, timeout=httpx.Timeout(10, read=2.0))
        record = wait_for_record(caplog, "the client disconnected", timeout_s=20)
        assert record is not None, "the abandoned request was not stopped"
        done, total = record.getMessage().split(" at ")[1].split(" tokens")[0].split(" of ")
        assert int(total) == 256 and int(done) < 256
        after = httpx.post(f"{url}/v1/text", json={"prompt": "Hi", "max_new_tokens": 1}, timeout=120)
    assert after.status_code == 200


def test_a_request_past_its_deadline_answers_503_saying_what_to_change(local_client):
    with make_test_client(local_client, max_new_tokens=256, request_deadline_s=1) as api:
        response = api.post("/v1/text", json=LONG_SAMPLED)
    assert response.status_code == 503
    assert "deadline of 1 s" in response.json()["detail"]
    assert "fewer new tokens" in response.json()["detail"]


def test_a_request_over_the_work_cap_is_refused_with_422_before_it_runs(local_client):
    with make_test_client(local_client, max_new_tokens=256, max_token_passes=200) as api:
        response = api.post("/v1/text", json={"prompt": "Hello there", "max_new_tokens": 200})
    assert response.status_code == 422
    assert "at most 200" in response.json()["detail"] and "shorten the prompt" in response.json()["detail"]


def test_the_cost_estimate_grows_with_tokens_and_samples():
    short, long = TextRequest(prompt="Hi", max_new_tokens=8), TextRequest(prompt="word " * 4000, max_new_tokens=8)
    assert request_cost(long) > 50 * request_cost(short)
    few = SequenceRequest(text=short, samples=2)
    many = SequenceRequest(text=short, samples=16)
    assert request_cost(many) > request_cost(few) > request_cost(short)
    tokens = AuditRequest(methods=["mean_logprob"], batch_size=2)
    compared = AuditRequest(methods=["mean_logprob", "relative_confidence"], batch_size=2)
    assert request_cost(compared) - request_cost(tokens) == 2 * 4 * 32 * 3  # 4 asking passes a question


def test_admission_refuses_work_past_the_queued_cost_with_a_retry_after_that_grows_with_it():
    async def scenario():
        admission = Admission(max_running=4, max_waiting=8, retry_after_s=2, max_queued_cost=1000,
                              seconds_per_token_pass=0.01)
        async with admission.slot(900):
            async with admission.slot(50):
                with pytest.raises(BackendBusyError, match="950 token-passes") as refused:
                    async with admission.slot(100):
                        pass
                assert refused.value.retry_after_s == 10
        assert admission.admitted == 0 and admission.queued_cost == 0
        async with admission.slot(5000):  # an idle backend takes any request; its budget bounds it
            pass

    asyncio.run(scenario())
