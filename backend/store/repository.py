"""Saved analyses in a SQL database through SQLAlchemy.

SQLite (the default) runs with WAL journaling and synchronous=FULL, so an acknowledged save survives a killed
process or a power cut; UQLENS_DATABASE_URL points at PostgreSQL or another database instead. Saves are idempotent
by client-generated id: repeating a save returns the stored item and writes nothing.
"""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from sqlalchemy import Column, MetaData, String, Table, Text, create_engine, delete, event, insert, or_, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from backend.errors import SaveConflictError
from backend.schemas.store import SavedItem, SavedSummary, SaveRequest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
metadata = MetaData()
saved_items = Table(
    "saved_items", metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(20), nullable=False, index=True),
    Column("title", String(200), nullable=False),
    Column("notes", Text, nullable=False),
    Column("tags", Text, nullable=False),
    Column("model", String(200), nullable=False),
    Column("created_at", String(40), nullable=False, index=True),
    Column("payload", Text, nullable=False),
    Column("request", Text),
)


def default_database_url() -> str:
    """UQLENS_DATABASE_URL, else a SQLite file in data/ under the project folder."""
    url = os.environ.get("UQLENS_DATABASE_URL")
    if url:
        return url
    path = PROJECT_ROOT / "data" / "uqlens.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """Durable, concurrent SQLite: WAL journal, fsync on every commit, wait for locks instead of failing."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def open_database(url: str, tables: MetaData) -> Engine:
    """An engine for `url`, with SQLite's durability pragmas on every connection, and `tables` created."""
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    tables.create_all(engine)
    return engine


def like_literal(text_value: str) -> str:
    """Escape LIKE's wildcards so user text matches literally (escape character: backslash)."""
    return text_value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _row_to_item(row) -> SavedItem:
    return SavedItem(id=row.id, kind=row.kind, title=row.title, notes=row.notes, tags=json.loads(row.tags),
                     model=row.model, created_at=row.created_at, payload=json.loads(row.payload),
                     request=json.loads(row.request) if row.request else None)


class Store:
    """Saved analyses: save (idempotent), get, list / search, delete, integrity check."""

    def __init__(self, url: Optional[str] = None) -> None:
        self.url = url or default_database_url()
        self.engine: Engine = open_database(self.url, metadata)

    def save(self, request: SaveRequest) -> SavedItem:
        """Store the item; the same id again returns what is stored (different content raises SaveConflictError)."""
        values = dict(id=request.id, kind=request.kind, title=request.title, notes=request.notes,
                      tags=json.dumps(request.tags), model=request.model,
                      created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                      payload=json.dumps(request.payload, sort_keys=True),
                      request=json.dumps(request.request, sort_keys=True) if request.request is not None else None)
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(saved_items).values(**values))
        except IntegrityError:
            existing = self.get(request.id)
            if existing is None or existing.payload != json.loads(values["payload"]):
                raise SaveConflictError(f"id {request.id} is already used by another saved item") from None
            return existing
        return self.get(request.id)

    def get(self, item_id: str) -> Optional[SavedItem]:
        """The saved item, or None."""
        with self.engine.connect() as connection:
            row = connection.execute(select(saved_items).where(saved_items.c.id == item_id)).first()
        return _row_to_item(row) if row else None

    def list(self, *, query: str = "", tag: str = "", kind: str = "", limit: int = 100,
             offset: int = 0) -> list[SavedSummary]:
        """Newest first; `query` matches title, notes or model (case-insensitive), `tag` one exact tag."""
        columns = [c for c in saved_items.c if c.name not in ("payload", "request")]
        statement = select(*columns).order_by(saved_items.c.created_at.desc(), saved_items.c.id)
        if query:
            pattern = f"%{like_literal(query.lower())}%"
            statement = statement.where(or_(*(c.ilike(pattern, escape="\\") for c in
                                              (saved_items.c.title, saved_items.c.notes, saved_items.c.model))))
        if tag:
            pattern = f"%{like_literal(json.dumps(tag.strip().lower()))}%"
            statement = statement.where(saved_items.c.tags.like(pattern, escape="\\"))
        if kind:
            statement = statement.where(saved_items.c.kind == kind)
        with self.engine.connect() as connection:
            rows = connection.execute(statement.limit(limit).offset(offset)).all()
        return [SavedSummary(id=r.id, kind=r.kind, title=r.title, notes=r.notes, tags=json.loads(r.tags),
                             model=r.model, created_at=r.created_at) for r in rows]

    def delete(self, item_id: str) -> bool:
        """Remove an item; False when there was none."""
        with self.engine.begin() as connection:
            return connection.execute(delete(saved_items).where(saved_items.c.id == item_id)).rowcount > 0

    def integrity_ok(self) -> bool:
        """SQLite's integrity check (always True on other databases, which check themselves)."""
        if self.engine.dialect.name != "sqlite":
            return True
        with self.engine.connect() as connection:
            return connection.execute(text("PRAGMA integrity_check")).scalar() == "ok"
