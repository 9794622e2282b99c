"""LocalClient opens its stores once, even when many threads (app sessions, service workers) ask together."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from backend.clients.local import LocalClient


def test_stores_open_once_under_concurrent_first_use(tmp_path, monkeypatch):
    monkeypatch.setenv("UQLENS_DATABASE_URL", f"sqlite:///{tmp_path}/fresh.sqlite")
    client = LocalClient()
    with ThreadPoolExecutor(8) as pool:
        audit_stores = list(pool.map(lambda _: client.audit_store, range(16)))
        stores = list(pool.map(lambda _: client.store, range(16)))
    assert len({id(s) for s in audit_stores}) == 1 and len({id(s) for s in stores}) == 1
