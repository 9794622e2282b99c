"""Saved analyses in a SQL database through SQLAlchemy.

SQLite (the default) runs with WAL journaling and synchronous=FULL, so an acknowledged save survives a killed
process or a power cut; UQLENS_DATABASE_URL points at PostgreSQL or another database instead. Saves are idempotent
by client-generated id: repeating a save returns the stored item and writes nothing. Both databases behave alike:
what a save refuses (NUL characters, payloads that could not be read back) is refused before either is asked, and
a database that cannot be reached raises StoreUnavailableError (503) naming it, never a driver error. Tables are
created (and older ones migrated) on first use, so the store opens while its database is down.
"""
from __future__ import annotations

import json
import os
import threading
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Optional

from pydantic_core import PydanticSerializationError
from sqlalchemy import (Column, MetaData, String, Table, Text, create_engine, delete, event, insert, inspect, or_,
                        select, text, update)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

from backend.errors import SaveConflictError, StoreUnavailableError, UserInputError
from backend.schemas.store import SavedItem, SavedSummary, SaveRequest, nul_problem
from backend.store.search_text import search_text

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
    Column("search_text", Text),  # prompts and answers of payload and request (search_text.py); added in a migration
)
CONNECT_TIMEOUT_S = 3
BACKFILL_BATCH = 200


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


def connect_engine(url: str) -> Engine:
    """An engine for `url` that connects nothing yet: SQLite's durability pragmas on every connection; elsewhere a
    CONNECT_TIMEOUT_S connect timeout and a ping before reusing a pooled connection (a restarted server)."""
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": CONNECT_TIMEOUT_S})


def open_database(url: str, tables: MetaData) -> Engine:
    """An engine for `url`, with SQLite's durability pragmas on every connection, and `tables` created;
    StoreUnavailableError when the database cannot be reached."""
    engine = connect_engine(url)
    with reachable(url):
        tables.create_all(engine)
    return engine


def describe_url(url: str) -> str:
    """The database URL for a message: driver name dropped, password shown as ***."""
    parsed = make_url(url)
    return parsed.set(drivername=parsed.get_backend_name()).render_as_string(hide_password=True)


def is_unreachable(exc: Exception) -> bool:
    """Whether a SQLAlchemy error means the database cannot be reached (down, restarting, locked), not bad SQL."""
    if isinstance(exc, (OperationalError, InterfaceError)):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def first_line(exc: BaseException) -> str:
    """The driver's own message, first line only (no SQL, no parameters)."""
    cause = getattr(exc, "orig", None) or exc
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0][:300]


@contextmanager
def reachable(url: str) -> Iterator[None]:
    """Turn a SQLAlchemy error that means the database at `url` cannot be reached into StoreUnavailableError (503,
    naming the database with its password hidden); any other error passes unchanged."""
    try:
        yield
    except DBAPIError as exc:
        if not is_unreachable(exc):
            raise
        raise StoreUnavailableError(f"the database at {describe_url(url)} is not reachable: {first_line(exc)}; "
                                    f"retry when it is back") from None


def add_search_column(connection: Connection) -> None:
    """Migrate a database saved before search covered prompts and answers: add the column, fill it for every row."""
    if "search_text" not in {c["name"] for c in inspect(connection).get_columns("saved_items")}:
        connection.execute(text("ALTER TABLE saved_items ADD COLUMN search_text TEXT"))
    while True:
        rows = connection.execute(select(saved_items.c.id, saved_items.c.payload, saved_items.c.request)
                                  .where(saved_items.c.search_text.is_(None)).limit(BACKFILL_BATCH)).all()
        for row in rows:
            found = search_text(json.loads(row.payload), json.loads(row.request) if row.request else None)
            connection.execute(update(saved_items).where(saved_items.c.id == row.id).values(search_text=found))
        if len(rows) < BACKFILL_BATCH:
            return


def refuse_nul(value: str, field: str) -> None:
    """UserInputError (422) when a filter holds a NUL character, which no text column can match."""
    problem = nul_problem(value, field)
    if problem:
        raise UserInputError(problem)


def canonical_id(item_id: str) -> Optional[str]:
    """The id as saves store it (lower-case hyphenated UUID), or None for text that is no UUID."""
    try:
        return str(uuid.UUID(item_id))
    except ValueError:
        return None


def like_literal(text_value: str) -> str:
    """Escape LIKE's wildcards so user text matches literally (escape character: backslash)."""
    return text_value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def item_from_columns(columns) -> SavedItem:
    """A SavedItem from a row's columns (a mapping of column name to stored text)."""
    return SavedItem(id=columns["id"], kind=columns["kind"], title=columns["title"], notes=columns["notes"],
                     tags=json.loads(columns["tags"]), model=columns["model"], created_at=columns["created_at"],
                     payload=json.loads(columns["payload"]),
                     request=json.loads(columns["request"]) if columns["request"] else None)


def stored_values(request: SaveRequest) -> dict:
    """The row for a save; UserInputError (422) when the item could not be read back as SavedItem JSON (the
    check the read path's serialisation would otherwise fail after the commit)."""
    try:
        values = dict(id=request.id, kind=request.kind, title=request.title, notes=request.notes,
                      tags=json.dumps(request.tags), model=request.model,
                      created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                      payload=json.dumps(request.payload, sort_keys=True, allow_nan=False),
                      request=(json.dumps(request.request, sort_keys=True, allow_nan=False)
                               if request.request is not None else None))
        item_from_columns(values).model_dump_json()
    except (ValueError, TypeError, RecursionError, PydanticSerializationError) as exc:
        raise UserInputError(f"this item could not be read back once saved ({str(exc)[:200]}): save the payload "
                             f"as plain JSON, nested at most a few levels") from None
    values["search_text"] = search_text(request.payload, request.request)
    return values


class Store:
    """Saved analyses: save (idempotent), get, list / search, kinds, delete, ping, integrity check."""

    def __init__(self, url: Optional[str] = None) -> None:
        self.url = url or default_database_url()
        self.engine: Engine = connect_engine(self.url)
        self._schema_ready = False
        self._schema_lock = threading.Lock()

    @contextmanager
    def _database(self) -> Iterator[None]:
        """Create or migrate the tables on first use; an unreachable database raises StoreUnavailableError."""
        with reachable(self.url):
            if not self._schema_ready:
                with self._schema_lock:
                    if not self._schema_ready:
                        metadata.create_all(self.engine)
                        with self.engine.begin() as connection:
                            add_search_column(connection)
                        self._schema_ready = True
            yield

    def ping(self) -> None:
        """Ask the database for `SELECT 1` (at most CONNECT_TIMEOUT_S to connect); StoreUnavailableError if not."""
        with self._database(), self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def save(self, request: SaveRequest) -> SavedItem:
        """Store the item; the same id again returns what is stored (different content raises SaveConflictError)."""
        values = stored_values(request)
        try:
            with self._database(), self.engine.begin() as connection:
                connection.execute(insert(saved_items).values(**values))
        except IntegrityError:
            existing = self.get(request.id)
            if existing is None or existing.payload != json.loads(values["payload"]):
                raise SaveConflictError(f"id {request.id} is already used by another saved item") from None
            return existing
        return self.get(request.id)

    def get(self, item_id: str) -> Optional[SavedItem]:
        """The saved item, or None (also for an id that is no UUID, which no save stores)."""
        item_id = canonical_id(item_id)
        if item_id is None:
            return None
        with self._database(), self.engine.connect() as connection:
            row = connection.execute(select(saved_items).where(saved_items.c.id == item_id)).first()
        return item_from_columns(row._mapping) if row else None

    def list(self, *, query: str = "", tag: str = "", kind: str = "", limit: int = 100,
             offset: int = 0) -> list[SavedSummary]:
        """Newest first; `query` matches title, notes, model or the prompts and answers saved (case-insensitive),
        `tag` one exact tag; UserInputError for a filter holding a NUL character."""
        for value, field in ((query, "the search text (q)"), (tag, "the tag filter"), (kind, "the kind filter")):
            refuse_nul(value, field)
        columns = [c for c in saved_items.c if c.name not in ("payload", "request", "search_text")]
        statement = select(*columns).order_by(saved_items.c.created_at.desc(), saved_items.c.id)
        if query:
            pattern = f"%{like_literal(query.lower())}%"
            searched = (saved_items.c.title, saved_items.c.notes, saved_items.c.model, saved_items.c.search_text)
            statement = statement.where(or_(*(c.ilike(pattern, escape="\\") for c in searched)))
        if tag:
            pattern = f"%{like_literal(json.dumps(tag.strip().lower()))}%"
            statement = statement.where(saved_items.c.tags.like(pattern, escape="\\"))
        if kind:
            statement = statement.where(saved_items.c.kind == kind)
        with self._database(), self.engine.connect() as connection:
            rows = connection.execute(statement.limit(limit).offset(offset)).all()
        return [SavedSummary(id=r.id, kind=r.kind, title=r.title, notes=r.notes, tags=json.loads(r.tags),
                             model=r.model, created_at=r.created_at) for r in rows]

    def kinds(self) -> list[str]:
        """The kinds that at least one saved item has, sorted (what a Kind filter should offer)."""
        with self._database(), self.engine.connect() as connection:
            return sorted(connection.execute(select(saved_items.c.kind).distinct()).scalars())

    def delete(self, item_id: str) -> bool:
        """Remove an item; False when there was none (also for an id that is no UUID)."""
        item_id = canonical_id(item_id)
        if item_id is None:
            return False
        with self._database(), self.engine.begin() as connection:
            return connection.execute(delete(saved_items).where(saved_items.c.id == item_id)).rowcount > 0

    def integrity_ok(self) -> bool:
        """SQLite's integrity check (always True on other databases, which check themselves)."""
        if self.engine.dialect.name != "sqlite":
            return True
        with self._database(), self.engine.connect() as connection:
            return connection.execute(text("PRAGMA integrity_check")).scalar() == "ok"
