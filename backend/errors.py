"""Errors that carry a message for the person who caused them: what went wrong and what to change."""
from __future__ import annotations


class UserInputError(ValueError):
    """The request cannot be served as given (too long, empty, out of range); the message says what to change."""


class ModelLoadError(RuntimeError):
    """A registered model could not be loaded; the message names the model and the cause."""


class BackendBusyError(RuntimeError):
    """The backend is at capacity; retry after `retry_after_s` seconds."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class BackendUnavailableError(RuntimeError):
    """The backend cannot be reached, is not ready yet, or ran out of memory; nothing was computed."""


class SaveConflictError(ValueError):
    """A save reused an existing id for different content."""


class ItemNotFoundError(LookupError):
    """No saved item has this id."""


class StoreUnavailableError(BackendUnavailableError):
    """The database of saved analyses cannot be reached; the message names it (password hidden) and says to retry."""
