"""Comparing two kept audits over HTTP (POST /v1/audit/compare, GET /v1/audit/kept): the same answer as in-process,
and the refusals as 422 with the message that says what to change."""
from __future__ import annotations

import pytest

from backend.clients.http import HttpClient
from backend.errors import UserInputError
from backend.schemas.audit import AuditDatasetUpload, AuditRequest
from backend.schemas.audit_compare import AuditComparisonRequest
from tests.backend.audit.test_compare_run import write_scores
from tests.backend.service.conftest import running_server

pytestmark = pytest.mark.slow


def test_a_comparison_over_http_equals_the_in_process_one(local_client, tmp_path):
    path = write_scores(tmp_path / "route-scores.csv", n=40, seed=4)
    upload = AuditDatasetUpload(filename="route-scores.csv", data=open(path, "rb").read())
    with running_server(local_client) as url:
        client = HttpClient(url)
        dataset = client.upload_audit_dataset(upload).dataset
        ids = []
        for methods in (["p", "u_entropy"], ["u_entropy"]):
            request = AuditRequest(dataset=dataset, methods=methods, batch_size=16, max_new_tokens=8)
            state = client.start_audit(request)
            while not state.complete:
                state = client.run_audit_batch(request)
            ids.append(state.audit_id)
        compare = AuditComparisonRequest(audit_a=ids[0], audit_b=ids[1], method_a="p", n_boot=300, seed=1)
        remote = client.compare_audits(compare)
        kept = client.kept_audits()
        with pytest.raises(UserInputError, match="no audit f{16} is kept"):
            client.compare_audits(compare.model_copy(update={"audit_b": "f" * 16}))
        with pytest.raises(UserInputError, match="same audit"):
            client.compare_audits(AuditComparisonRequest.model_construct(audit_a=ids[0], audit_b=ids[0], method_a=None,
                                                                         method_b=None, n_boot=100, seed=0,
                                                                         level=0.95))
    assert remote == local_client.compare_audits(compare)
    assert remote.paired_items == 40 and (remote.a.method, remote.b.method) == ("p", "u_entropy")
    assert {ids[0], ids[1]} <= {k.audit_id for k in kept}
