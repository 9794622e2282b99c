"""LocalClient: the Client run in this process (the default): the engine for the analyses, the stores for the
audits and the saved items."""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Callable, Optional

from backend.clients.protocol import Client
from backend.schemas import ModelInfo, TextAnalysis, TextRequest, TokenScore
from backend.schemas.store import SavedItem, SavedSummary, SaveRequest
from backend.service.operations import Operation

if TYPE_CHECKING:
    from backend.audit.store import AuditStore
    from backend.engine import Engine
    from backend.store.repository import Store


class LocalClient(Client):
    """Runs the engine in this process; the engine (and its models) and the stores are created on first use, once
    even when several threads (the app's sessions, the service's workers) ask at the same moment."""

    def __init__(self, engine: Optional[Engine] = None, store: Optional[Store] = None,
                 audit_store: Optional[AuditStore] = None) -> None:
        self._engine = engine
        self._store = store
        self._audit_store = audit_store
        self._creating = threading.Lock()

    @property
    def engine(self) -> Engine:
        """The engine, imported and built on first use so that importing the client stays light."""
        with self._creating:
            if self._engine is None:
                from backend.engine import Engine

                self._engine = Engine()
        return self._engine

    @property
    def store(self) -> Store:
        """The saved-analysis store (UQLENS_DATABASE_URL or data/uqlens.sqlite), opened on first use."""
        with self._creating:
            if self._store is None:
                from backend.store.repository import Store

                self._store = Store()
        return self._store

    @property
    def audit_store(self) -> AuditStore:
        """Audit runs and their finished items, in the same database as the saved analyses, opened on first use."""
        with self._creating:
            if self._audit_store is None:
                from backend.audit.store import AuditStore

                self._audit_store = AuditStore()
        return self._audit_store

    def models(self) -> list[ModelInfo]:
        return self.engine.models()

    def call(self, operation: Operation, *arguments: Any) -> Any:
        """Run one row of the operations table: a pure row directly, an audit row on the stores (and the engine),
        an analysis on the engine."""
        runs_on = operation.runs_on
        if runs_on == "request":
            return operation.function()(*arguments)
        if runs_on == "audit store":
            return operation.function()(*arguments, self.audit_store)
        if runs_on == "engine and audit store":
            return operation.function()(*arguments, self.engine, self.audit_store)
        return self.engine.call(operation, *arguments)

    def stream_text(self, request: TextRequest, on_token: Optional[Callable[[TokenScore], None]] = None,
                    should_stop: Optional[Callable[[], bool]] = None) -> TextAnalysis:
        """analyze_text on the engine with a live stream installed (backend.streaming; see Client.stream_text)."""
        from backend.streaming import TokenStream, live_text_operation, streaming

        with streaming(TokenStream(on_token, should_stop)):
            return self.engine.call(live_text_operation(), request)

    def save(self, request: SaveRequest) -> SavedItem:
        return self.store.save(request)

    def list_saved(self, *, query: str = "", tag: str = "", kind: str = "", limit: int = 100,
                   offset: int = 0) -> list[SavedSummary]:
        return self.store.list(query=query, tag=tag, kind=kind, limit=limit, offset=offset)

    def saved_kinds(self) -> list[str]:
        return self.store.kinds()

    def get_saved(self, item_id: str) -> Optional[SavedItem]:
        return self.store.get(item_id)

    def delete_saved(self, item_id: str) -> bool:
        return self.store.delete(item_id)
