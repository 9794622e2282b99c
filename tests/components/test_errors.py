"""One way to show errors: refused requests as errors saying what to change, a busy or unreachable backend as a
warning saying what is kept."""
from __future__ import annotations

import pytest
from pydantic import ValidationError
from streamlit.testing.v1 import AppTest

from backend.errors import BackendBusyError, BackendUnavailableError, ModelLoadError, UserInputError
from backend.schemas import TextRequest
from backend.schemas.audit import AuditRequest
from components.errors import error_messages, refused


def validation_error(schema: type, **fields) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        schema(**fields)
    return caught.value


def test_our_checks_speak_for_themselves_and_pydantics_name_the_field():
    assert error_messages(validation_error(TextRequest, model="m", prompt=" ")) == [
        "The prompt is empty: type a question or some text to continue"]
    messages = error_messages(validation_error(AuditRequest, dataset="builtin:qa", methods=["p"], limit=0))
    assert messages == ["Limit: Input should be greater than or equal to 1"]


def test_a_model_that_cannot_load_and_other_refusals():
    assert error_messages(ModelLoadError("broken-model: no such folder")) == [
        "The model could not be loaded. broken-model: no such folder"]
    assert error_messages(UserInputError("steps must be a whole number from 4 to 256, got 2")) == [
        "Steps must be a whole number from 4 to 256, got 2"]
    assert refused(UserInputError("x")) and refused(ModelLoadError("x"))
    assert not refused(BackendBusyError("busy", 1.0)) and not refused(BackendUnavailableError("down"))


def failing_page(exc, retry_key):
    from components.errors import show_error

    show_error(exc, kept="Your prompt and settings are kept.", retry_key=retry_key)


def test_an_unreachable_backend_is_a_warning_with_what_is_kept_and_a_retry():
    at = AppTest.from_function(failing_page, args=(BackendUnavailableError("cannot reach the backend at x"),
                                                   "text_retry")).run()
    assert not at.exception and not at.error
    assert [w.value for w in at.warning] == [
        "The backend could not answer: cannot reach the backend at x. Your prompt and settings are kept."]
    assert at.button(key="text_retry").label == "Retry"


def test_a_refused_request_is_an_error_without_a_retry():
    at = AppTest.from_function(failing_page, args=(UserInputError("the prompt is too long"), "text_retry")).run()
    assert [e.value for e in at.error] == ["The prompt is too long"]
    assert not at.warning and not at.button
