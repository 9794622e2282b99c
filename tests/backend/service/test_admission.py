"""Which queue a request waits in: served models apart from in-process ones, by the model the request names."""
from __future__ import annotations

import asyncio

import pytest

from backend.errors import BackendBusyError
from backend.schemas import SequenceRequest, TextRequest
from backend.schemas.audit import AuditRequest
from backend.service.admission import Admission, Admissions, requested_model
from backend.service.settings import ServiceSettings


def test_the_model_a_request_names_is_read_from_model_or_text_model():
    assert requested_model(TextRequest(model="big", prompt="hi")) == "big"
    assert requested_model(SequenceRequest(text=TextRequest(model="big", prompt="hi"))) == "big"
    assert requested_model(AuditRequest(model="big")) == "big"
    assert requested_model("a query value") is None


def test_requests_on_served_models_wait_in_their_own_queue():
    admissions = Admissions(in_process=Admission(1, 0, 2), served=Admission(8, 0, 2))
    served = {"big"}.__contains__
    assert admissions.of(TextRequest(model="big", prompt="hi"), served) is admissions.served
    assert admissions.of(TextRequest(prompt="hi"), served) is admissions.in_process
    assert admissions.of(SequenceRequest(text=TextRequest(model="big", prompt="hi")), served) is admissions.served


def test_a_full_in_process_queue_does_not_refuse_served_work():
    admissions = Admissions(in_process=Admission(1, 0, 2), served=Admission(2, 0, 2))

    async def scenario() -> list[str]:
        outcomes = []
        async with admissions.in_process.slot():
            with pytest.raises(BackendBusyError):
                async with admissions.in_process.slot():
                    pass
            async with admissions.served.slot(), admissions.served.slot():
                outcomes.append("two served requests run beside the in-process one")
                with pytest.raises(BackendBusyError):
                    async with admissions.served.slot():
                        pass
        return outcomes

    assert asyncio.run(scenario()) == ["two served requests run beside the in-process one"]


def test_the_served_limits_come_from_the_environment():
    settings = ServiceSettings.from_env({"UQLENS_MAX_SERVED_RUNNING": "12", "UQLENS_MAX_SERVED_WAITING": "3"})
    assert (settings.max_served_running, settings.max_served_waiting) == (12, 3)
    defaults = ServiceSettings.from_env({})
    assert (defaults.max_served_running, defaults.max_served_waiting) == (32, 64)
    with pytest.raises(ValueError, match="UQLENS_MAX_SERVED_RUNNING"):
        ServiceSettings.from_env({"UQLENS_MAX_SERVED_RUNNING": "many"})
