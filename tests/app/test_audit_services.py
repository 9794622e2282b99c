"""The page's audit loop: start, one call per batch until complete, time left, and waiting out a busy backend."""
from __future__ import annotations

import pytest

from app import audit_services
from backend.errors import BackendBusyError
from backend.schemas.audit import AuditProgress, AuditRequest

REQUEST = AuditRequest(dataset="builtin-digits", methods=["softmax"], limit=5, batch_size=2)


class FakeClient:
    """Finishes two items per batch; answers busy once before the second batch."""

    def __init__(self) -> None:
        self.done, self.calls = 0, []

    def state(self, computed: int) -> AuditProgress:
        return AuditProgress(audit_id="0" * 16, dataset_id="d", total=5, done=self.done, computed=computed)

    def start_audit(self, request: AuditRequest) -> AuditProgress:
        self.calls.append("start")
        return self.state(0)

    def run_audit_batch(self, request: AuditRequest) -> AuditProgress:
        self.calls.append("batch")
        if self.calls.count("batch") == 2:
            raise BackendBusyError("busy", 0.5)
        computed = min(2, 5 - self.done)
        self.done += computed
        return self.state(computed)


def test_run_batches_until_complete_waiting_when_busy(monkeypatch):
    client, waits, seen = FakeClient(), [], []
    monkeypatch.setattr(audit_services, "get_client", lambda: client)
    monkeypatch.setattr(audit_services.time, "sleep", waits.append)
    final = audit_services.run_batches(REQUEST, lambda state, left: seen.append((state.done, left)))
    assert final.complete and client.calls == ["start", "batch", "batch", "batch", "batch"]
    assert waits == [0.5]
    assert [done for done, _ in seen] == [0, 2, 4, 5] and seen[0][1] is None and seen[-1][1] == 0.0


def test_when_free_gives_up_after_its_retries():
    def busy():
        raise BackendBusyError("busy", 1.0)

    waits = []
    with pytest.raises(BackendBusyError):
        audit_services.when_free(busy, wait=waits.append, retries=3)
    assert waits == [1.0, 1.0]
