"""One way to tell a person that a request failed, on every page: what went wrong and what to change.

A request the backend refused (bad input, an unknown name, a model that cannot load) is an error; a backend that
is busy or cannot be reached computed nothing, so it is a warning that says what is kept. Anything else is a bug
and is left to Streamlit, which shows the traceback.
"""
from __future__ import annotations

from typing import Optional

import streamlit as st
from pydantic import ValidationError

from backend.errors import BackendBusyError, BackendUnavailableError, ModelLoadError, SaveConflictError, UserInputError

REFUSED_ERRORS = (ValidationError, UserInputError, ModelLoadError, SaveConflictError)  # the request cannot be served
TRANSIENT_ERRORS = (BackendBusyError, BackendUnavailableError)  # nothing was computed: the same request may succeed
EXPECTED_ERRORS = (*REFUSED_ERRORS, *TRANSIENT_ERRORS)


def sentence(message: str) -> str:
    """The message with a capital first letter ("the prompt is empty" -> "The prompt is empty")."""
    return message[:1].upper() + message[1:]


def validation_message(error: dict) -> str:
    """One pydantic error as a sentence: a check of ours says what to change in its own words; pydantic's own
    messages ("Input should be ...") are prefixed with the field they are about."""
    message = str(error["msg"]).removeprefix("Value error, ")
    where = ".".join(map(str, error.get("loc", ())))
    return sentence(message if error.get("type") == "value_error" or not where else f"{where}: {message}")


def error_messages(exc: Exception) -> list[str]:
    """What to tell the person about exc: one line per invalid field of a ValidationError, the model and the cause
    of a ModelLoadError, else the exception's own message."""
    if isinstance(exc, ValidationError):
        return [validation_message(error) for error in exc.errors()]
    if isinstance(exc, ModelLoadError):
        return [f"The model could not be loaded. {exc}"]
    return [sentence(str(exc))]


def refused(exc: Exception) -> bool:
    """Whether the request itself was refused (so a page forgets it), not only unanswered for now (busy, down)."""
    return isinstance(exc, REFUSED_ERRORS)


def show_error(exc: Exception, *, kept: str = "", retry_key: Optional[str] = None) -> None:
    """Show exc on the page: a busy or unreachable backend as a warning ending with `kept` (what was not lost, e.g.
    "Your prompt and settings are kept."), with a Retry button keyed retry_key if given; anything else as one
    st.error per message."""
    if isinstance(exc, TRANSIENT_ERRORS):
        st.warning(f"The backend could not answer: {exc}. {kept}".strip())
        if retry_key:
            st.button("Retry", key=retry_key)
        return
    for message in error_messages(exc):
        st.error(message)
