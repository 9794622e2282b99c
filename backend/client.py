"""The one interface the front end talks to. LocalClient runs the engine in-process (the default)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Protocol

from backend.schemas import ModelInfo, TextAnalysis, TextRequest
from backend.schemas.store import SavedItem, SavedSummary, SaveRequest

if TYPE_CHECKING:
    from backend.engine import Engine
    from backend.store.repository import Store


class Client(Protocol):
    """Operations the app needs; every implementation must give the same answers for the same requests."""

    def models(self) -> list[ModelInfo]:
        """Registered models."""
        ...

    def analyze_text(self, request: TextRequest) -> TextAnalysis:
        """Token-level uncertainty of a generated or given answer."""
        ...

    def save(self, request: SaveRequest) -> SavedItem:
        """Keep an analysis (idempotent by the request's id)."""
        ...

    def list_saved(self, *, query: str = "", tag: str = "", kind: str = "", limit: int = 100,
                   offset: int = 0) -> list[SavedSummary]:
        """Saved items, newest first, optionally filtered."""
        ...

    def get_saved(self, item_id: str) -> Optional[SavedItem]:
        """One saved item with its payload, or None."""
        ...

    def delete_saved(self, item_id: str) -> bool:
        """Remove a saved item; False when there was none."""
        ...


class LocalClient:
    """Runs the engine in this process; the engine (and its models) is created on first use."""

    def __init__(self, engine: Optional[Engine] = None, store: Optional[Store] = None) -> None:
        self._engine = engine
        self._store = store

    @property
    def engine(self) -> Engine:
        """The engine, imported and built on first use so that importing the client stays light."""
        if self._engine is None:
            from backend.engine import Engine

            self._engine = Engine()
        return self._engine

    @property
    def store(self) -> Store:
        """The saved-analysis store (UQLENS_DATABASE_URL or data/uqlens.sqlite), opened on first use."""
        if self._store is None:
            from backend.store.repository import Store

            self._store = Store()
        return self._store

    def models(self) -> list[ModelInfo]:
        return self.engine.models()

    def analyze_text(self, request: TextRequest) -> TextAnalysis:
        return self.engine.analyze_text(request)

    def save(self, request: SaveRequest) -> SavedItem:
        return self.store.save(request)

    def list_saved(self, *, query: str = "", tag: str = "", kind: str = "", limit: int = 100,
                   offset: int = 0) -> list[SavedSummary]:
        return self.store.list(query=query, tag=tag, kind=kind, limit=limit, offset=offset)

    def get_saved(self, item_id: str) -> Optional[SavedItem]:
        return self.store.get(item_id)

    def delete_saved(self, item_id: str) -> bool:
        return self.store.delete(item_id)
