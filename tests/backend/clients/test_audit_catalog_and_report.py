"""The audit catalog, the audit report and the work budget through LocalClient: what the Calibration and Text pages
use instead of backend internals."""
from __future__ import annotations

import pytest

from backend.audit.methods import audit_method_catalog
from backend.audit.store import AuditStore
from backend.clients import Budget, LocalClient, WorkCancelled, run_under
from backend.schemas import TextRequest
from backend.schemas.audit import AuditRequest

DIGITS = AuditRequest(dataset="builtin-digits", methods=["softmax", "margin"], limit=6, batch_size=6)


def test_audit_methods_is_the_catalog_without_building_the_engine():
    client = LocalClient()
    catalog = client.audit_methods()
    assert catalog == audit_method_catalog()
    assert {"mean_logprob", "softmax", "mc_dropout_prob"} <= set(catalog.names())
    assert set(catalog.names("classifier")) >= {"softmax", "margin"} and client._engine is None


def test_audit_report_renders_what_the_audit_finished(engine, tmp_path):
    client = LocalClient(engine=engine, audit_store=AuditStore(f"sqlite:///{tmp_path}/audits.sqlite"))
    client.start_audit(DIGITS)
    assert client.run_audit_batch(DIGITS).complete
    result = client.audit_result(DIGITS)
    report = client.audit_report(DIGITS)
    assert report.startswith("<!DOCTYPE html>") and f"Audit <code>{result.audit_id}</code>" in report
    assert f"{result.n} items, accuracy {result.accuracy:.4f}" in report and result.n == 6


def test_a_client_call_is_bounded_by_the_budget_it_runs_under(engine):
    client = LocalClient(engine=engine)
    request = TextRequest(prompt="Count to ten:", max_new_tokens=4)
    stopped = Budget()
    stopped.cancel("Stop pressed")
    with pytest.raises(WorkCancelled, match="Stop pressed"):
        run_under(stopped, client.analyze_text, request)
    seen = []
    analysis = run_under(Budget(deadline_s=120, on_progress=seen.append), client.analyze_text, request)
    assert analysis.tokens and seen and seen[-1].stage
