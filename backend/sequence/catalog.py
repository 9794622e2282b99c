"""The sequence-level methods with their metadata: what GET /v1/sequence/methods answers."""
from __future__ import annotations

from backend.schemas.sequence import MethodInfo
from backend.sequence.methods import METHODS


def sequence_methods() -> list[MethodInfo]:
    """Every sequence-level method in registration order, with the metadata the UI builds its controls from."""
    return [METHODS.get(name).info() for name in METHODS.available()]
