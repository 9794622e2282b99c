"""Errors that carry a message for the person who caused them: what went wrong and what to change."""
from __future__ import annotations


class UserInputError(ValueError):
    """The request cannot be served as given (too long, empty, out of range); the message says what to change."""


class ModelLoadError(RuntimeError):
    """A registered model could not be loaded; the message names the model and the cause."""
