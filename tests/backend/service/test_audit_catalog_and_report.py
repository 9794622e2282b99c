"""The audit catalog and the audit report over HTTP: the same answers as in-process, refused as the other audit
routes are, and documented in the OpenAPI document."""
from __future__ import annotations

import re

import pytest

from backend.clients.http import HttpClient
from backend.schemas.audit import AuditRequest
from tests.backend.service.conftest import running_server

pytestmark = pytest.mark.slow
DIGITS = AuditRequest(dataset="builtin-digits", methods=["softmax", "margin"], limit=6, batch_size=6, seed=3)
VARYING = re.compile(r"report written\s+\S+ UTC|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def same_report(report: str) -> str:
    """The report without what differs between two renderings: its time and the figures' random div ids."""
    return VARYING.sub("", report)


def test_catalog_and_report_over_http_equal_in_process(local_client):
    with running_server(local_client) as url:
        client = HttpClient(url)
        catalog = client.audit_methods()
        client.start_audit(DIGITS)
        assert client.run_audit_batch(DIGITS).complete
        report = client.audit_report(DIGITS)
        result = client.audit_result(DIGITS)
    assert catalog == local_client.audit_methods() and "softmax" in catalog.names("classifier")
    assert f"Audit <code>{result.audit_id}</code>" in report and "6 items" in report
    assert same_report(report) == same_report(local_client.audit_report(DIGITS))


def test_the_report_is_refused_as_the_other_audit_routes_are(api):
    body = DIGITS.model_copy(update={"dataset": "/etc/passwd"}).model_dump(mode="json")
    response = api.post("/v1/audit/report", json=body)
    assert response.status_code == 422 and "paths on the server are not accepted" in response.json()["detail"]
    assert api.post("/v1/audit/report", json={**body, "batch_size": 17}).status_code == 422


def test_the_new_routes_are_documented(api):
    paths = api.get("/openapi.json").json()["paths"]
    catalog = paths["/v1/audit/methods"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert catalog == {"$ref": "#/components/schemas/AuditMethodCatalog"}
    report = paths["/v1/audit/report"]["post"]
    assert report["responses"]["200"]["content"]["application/json"]["schema"]["type"] == "string"
    assert report["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AuditRequest"}
    assert "HTML report" in report["description"]
