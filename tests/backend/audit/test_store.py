"""The audit store under concurrent use: a run started by several threads at once is recorded once."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from backend.audit.store import AuditStore
from backend.schemas.audit import AuditRequest


def test_concurrent_starts_keep_one_record(tmp_path):
    store = AuditStore(f"sqlite:///{tmp_path}/audit.sqlite")
    request = AuditRequest(dataset="builtin-digits", methods=["softmax"])
    with ThreadPoolExecutor(8) as pool:
        created = list(pool.map(lambda _: store.start("0123456789abcdef", request, "builtin-digits", 10), range(16)))
    assert len(set(created)) == 1 and store.created_at("0123456789abcdef") == created[0]
    assert store.created_at("fedcba9876543210") is None
