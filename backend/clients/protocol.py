"""The Client: what the front end asks of the backend, whichever machine computes it.

Every analysis and audit operation is a row of the operations table (backend.service.operations.Operations),
inherited here as a typed method: `client.analyze_text(request) -> TextAnalysis`. An implementation says how one
row is carried out (`call`), and serves the model list and the saved items, which are not rows (their routes take
path and query parameters). LocalClient and HttpClient must give the same answers for the same requests.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Callable, Optional

from backend.schemas import ModelInfo, TextAnalysis, TextRequest, TokenScore
from backend.schemas.store import SavedItem, SavedSummary, SaveRequest
from backend.service.operations import Operation, Operations


class Client(Operations, ABC):
    """Operations the app needs; every implementation must give the same answers for the same requests."""

    @abstractmethod
    def call(self, operation: Operation, *arguments: Any) -> Any:
        """Carry out one row of the operations table on its argument (a request, a query value, or none)."""

    def stream_text(self, request: TextRequest, on_token: Optional[Callable[[TokenScore], None]] = None,
                    should_stop: Optional[Callable[[], bool]] = None) -> TextAnalysis:
        """analyze_text live: on_token(token) for each generated token as it comes (from that step's logits);
        should_stop() is asked after each one, and when it answers True generation ends there and the tokens so far
        are analysed (stop_reason "stopped"). The finished analysis equals analyze_text's. This default (for a client
        that cannot stream) only returns analyze_text's analysis."""
        return self.analyze_text(request)

    @abstractmethod
    def models(self) -> list[ModelInfo]:
        """Registered models."""

    @abstractmethod
    def save(self, request: SaveRequest) -> SavedItem:
        """Keep an analysis (idempotent by the request's id)."""

    @abstractmethod
    def list_saved(self, *, query: str = "", tag: str = "", kind: str = "", limit: int = 100,
                   offset: int = 0) -> list[SavedSummary]:
        """Saved items, newest first, optionally filtered."""

    @abstractmethod
    def saved_kinds(self) -> list[str]:
        """The kinds at least one saved item has, sorted."""

    @abstractmethod
    def get_saved(self, item_id: str) -> Optional[SavedItem]:
        """One saved item with its payload, or None."""

    @abstractmethod
    def delete_saved(self, item_id: str) -> bool:
        """Remove a saved item; False when there was none."""
