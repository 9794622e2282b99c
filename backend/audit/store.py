"""Finished audit items in the project's SQL database, so a killed or cancelled audit resumes where it stopped.

One row per (audit id, item index), written in one transaction per batch (SQLite: WAL journal, synchronous=FULL,
as backend.store.repository sets up), so an item is either fully kept or not at all and is never computed twice.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable, Optional

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, delete, func, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from backend.errors import ItemNotFoundError
from backend.schemas.audit import AuditItem, AuditRequest
from backend.store.repository import default_database_url, open_database

metadata = MetaData()
audit_runs = Table(
    "audit_runs", metadata,
    Column("audit_id", String(64), primary_key=True),
    Column("request", Text, nullable=False),
    Column("dataset_id", String(500), nullable=False),
    Column("total", Integer, nullable=False),
    Column("created_at", String(40), nullable=False),
)
audit_items = Table(
    "audit_items", metadata,
    Column("audit_id", String(64), primary_key=True),
    Column("item_index", Integer, primary_key=True),
    Column("payload", Text, nullable=False),
)


class AuditStore:
    """Audit runs and their finished items."""

    def __init__(self, url: Optional[str] = None) -> None:
        self.url = url or default_database_url()
        self.engine: Engine = open_database(self.url, metadata)

    def start(self, audit_id: str, request: AuditRequest, dataset_id: str, total: int) -> str:
        """Record the run once (a repeated start, also a concurrent one, keeps the first record); returns its
        creation time (UTC ISO)."""
        existing = self.created_at(audit_id)
        if existing is not None:
            return existing
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        try:
            with self.engine.begin() as connection:
                connection.execute(audit_runs.insert().values(audit_id=audit_id, request=request.model_dump_json(),
                                                              dataset_id=dataset_id, total=total, created_at=now))
        except IntegrityError:
            return self.created_at(audit_id) or now
        return now

    def created_at(self, audit_id: str) -> Optional[str]:
        """When the run was first started (UTC ISO), or None for a run never started."""
        with self.engine.connect() as connection:
            row = connection.execute(select(audit_runs.c.created_at).where(audit_runs.c.audit_id == audit_id)).first()
        return row.created_at if row is not None else None

    def save_items(self, audit_id: str, items: Iterable[AuditItem]) -> None:
        """Keep finished items in one transaction; an index already kept is left as it was."""
        rows = [dict(audit_id=audit_id, item_index=item.index, payload=item.model_dump_json()) for item in items]
        if not rows:
            return
        with self.engine.begin() as connection:
            if self.engine.dialect.name == "sqlite":
                connection.execute(sqlite_insert(audit_items).values(rows).on_conflict_do_nothing())
            else:
                done = self.finished_indices(audit_id)
                fresh = [r for r in rows if r["item_index"] not in done]
                if fresh:
                    connection.execute(audit_items.insert(), fresh)

    def finished_indices(self, audit_id: str) -> set[int]:
        """Indices of the items already kept."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(audit_items.c.item_index).where(audit_items.c.audit_id == audit_id))
            return {r.item_index for r in rows}

    def items(self, audit_id: str) -> list[AuditItem]:
        """Every kept item, by index."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(audit_items.c.payload).where(audit_items.c.audit_id == audit_id)
                                      .order_by(audit_items.c.item_index)).all()
        return [AuditItem.model_validate_json(r.payload) for r in rows]

    def set_override(self, audit_id: str, index: int, verdict: Optional[bool]) -> AuditItem:
        """Replace (or clear, with None) a person's verdict on one item; returns the updated item."""
        with self.engine.begin() as connection:
            row = connection.execute(select(audit_items.c.payload).where(
                (audit_items.c.audit_id == audit_id) & (audit_items.c.item_index == index))).first()
            if row is None:
                raise ItemNotFoundError(f"audit {audit_id} has no finished item {index}")
            item = AuditItem.model_validate_json(row.payload).model_copy(update={"override": verdict})
            connection.execute(update(audit_items).where((audit_items.c.audit_id == audit_id) &
                                                         (audit_items.c.item_index == index))
                               .values(payload=item.model_dump_json()))
        return item

    def runs_of(self, dataset_id: str) -> list[tuple[str, str]]:
        """(audit id, request JSON as first recorded) of every run kept for this dataset id."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(audit_runs.c.audit_id, audit_runs.c.request)
                                      .where(audit_runs.c.dataset_id == dataset_id)).all()
        return [(r.audit_id, r.request) for r in rows]

    def request_of(self, audit_id: str) -> Optional[str]:
        """The request JSON a run was first recorded with, or None for an id never started."""
        with self.engine.connect() as connection:
            row = connection.execute(select(audit_runs.c.request).where(audit_runs.c.audit_id == audit_id)).first()
        return row.request if row is not None else None

    def runs(self, limit: int) -> list[tuple[str, str, str, str, int]]:
        """(audit id, request JSON, dataset id, created at, items kept) of the `limit` newest runs with items."""
        kept = func.count(audit_items.c.item_index).label("kept")
        statement = (select(audit_runs.c.audit_id, audit_runs.c.request, audit_runs.c.dataset_id,
                            audit_runs.c.created_at, kept)
                     .join(audit_items, audit_items.c.audit_id == audit_runs.c.audit_id)
                     .group_by(audit_runs.c.audit_id, audit_runs.c.request, audit_runs.c.dataset_id,
                               audit_runs.c.created_at)
                     .order_by(audit_runs.c.created_at.desc(), audit_runs.c.audit_id).limit(limit))
        with self.engine.connect() as connection:
            return [(r.audit_id, r.request, r.dataset_id, r.created_at, r.kept)
                    for r in connection.execute(statement).all()]

    def first_item(self, audit_id: str) -> Optional[AuditItem]:
        """The kept item with the lowest index, or None."""
        with self.engine.connect() as connection:
            row = connection.execute(select(audit_items.c.payload).where(audit_items.c.audit_id == audit_id)
                                     .order_by(audit_items.c.item_index).limit(1)).first()
        return AuditItem.model_validate_json(row.payload) if row is not None else None

    def move_run(self, old_id: str, new_id: str) -> None:
        """Keep a run's items and record under a new id, in one transaction: items the new id already has stay as
        they are, the earliest creation time wins, and nothing is left under the old id."""
        with self.engine.begin() as connection:
            run = connection.execute(select(audit_runs).where(audit_runs.c.audit_id == old_id)).first()
            if run is None:
                return
            target = connection.execute(select(audit_runs).where(audit_runs.c.audit_id == new_id)).first()
            if target is None:
                connection.execute(audit_runs.insert().values(audit_id=new_id, request=run.request,
                                                              dataset_id=run.dataset_id, total=run.total,
                                                              created_at=run.created_at))
            elif run.created_at < target.created_at:
                connection.execute(update(audit_runs).where(audit_runs.c.audit_id == new_id)
                                   .values(created_at=run.created_at))
            done = {r.item_index for r in connection.execute(
                select(audit_items.c.item_index).where(audit_items.c.audit_id == new_id))}
            moved = [dict(audit_id=new_id, item_index=r.item_index, payload=r.payload) for r in connection.execute(
                select(audit_items).where(audit_items.c.audit_id == old_id)) if r.item_index not in done]
            if moved:
                connection.execute(audit_items.insert(), moved)
            connection.execute(delete(audit_items).where(audit_items.c.audit_id == old_id))
            connection.execute(delete(audit_runs).where(audit_runs.c.audit_id == old_id))

    def forget(self, audit_id: str) -> None:
        """Remove a run and its items (to start it afresh)."""
        with self.engine.begin() as connection:
            connection.execute(delete(audit_items).where(audit_items.c.audit_id == audit_id))
            connection.execute(delete(audit_runs).where(audit_runs.c.audit_id == audit_id))
