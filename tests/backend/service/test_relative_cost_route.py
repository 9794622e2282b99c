"""The relative-confidence cost estimate over HTTP: the same passes as in-process, refused as the audit would be."""
from __future__ import annotations

import pytest

from backend.clients.http import HttpClient
from backend.errors import UserInputError
from backend.schemas.audit import AuditRequest
from tests.backend.service.conftest import running_server

pytestmark = pytest.mark.slow
REQUEST = AuditRequest(methods=["mean_logprob", "relative_confidence"], limit=5, seed=2, max_new_tokens=8)


def test_the_estimate_over_http_counts_what_in_process_counts(local_client):
    with running_server(local_client) as url:
        client = HttpClient(url)
        remote = client.estimate_relative_cost(REQUEST)
        with pytest.raises(UserInputError, match="does not ask for relative_confidence"):
            client.estimate_relative_cost(REQUEST.model_copy(update={"methods": ["mean_logprob"]}))
    local = local_client.estimate_relative_cost(REQUEST)
    counted = ("audit_id", "model", "items", "comparisons", "passes")
    assert remote.model_dump(include=set(counted)) == local.model_dump(include=set(counted))
    assert remote.items == 5 and remote.passes == 2 * remote.comparisons and remote.seconds > 0
