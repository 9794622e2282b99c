"""The one interface the front end talks to. LocalClient runs the engine in-process (the default)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Protocol

from backend.schemas import ModelInfo, TextAnalysis, TextRequest

if TYPE_CHECKING:
    from backend.engine import Engine


class Client(Protocol):
    """Operations the app needs; every implementation must give the same answers for the same requests."""

    def models(self) -> list[ModelInfo]:
        """Registered models."""
        ...

    def analyze_text(self, request: TextRequest) -> TextAnalysis:
        """Token-level uncertainty of a generated or given answer."""
        ...


class LocalClient:
    """Runs the engine in this process; the engine (and its models) is created on first use."""

    def __init__(self, engine: Optional[Engine] = None) -> None:
        self._engine = engine

    @property
    def engine(self) -> Engine:
        """The engine, imported and built on first use so that importing the client stays light."""
        if self._engine is None:
            from backend.engine import Engine

            self._engine = Engine()
        return self._engine

    def models(self) -> list[ModelInfo]:
        return self.engine.models()

    def analyze_text(self, request: TextRequest) -> TextAnalysis:
        return self.engine.analyze_text(request)
