"""POST /v1/imports: the same result over HTTP as in-process (every method, the embedding ones included), and a
malformed log's refusal naming its line and field."""
from __future__ import annotations

import math

import pytest

from backend.clients.http import HttpClient
from backend.schemas.imports import ImportRequest
from tests.backend.imports.logs import chat_response, jsonl
from tests.backend.service.conftest import running_server

pytestmark = pytest.mark.slow
LN = math.log
PARIS = [("Par", LN(0.75), [("Par", LN(0.75)), ("Lon", LN(0.25))]),
         ("is", LN(0.5), [("is", LN(0.5)), ("is.", LN(0.3)), ("!", LN(0.2))])]
LONDON = [("Lon", LN(0.25), [("Par", LN(0.75)), ("Lon", LN(0.25))]),
          ("don", LN(0.9), [("don", LN(0.9)), ("g", LN(0.1))])]


def test_every_method_over_http_equals_in_process(local_client):
    prompt = {"prompt": "What is the capital of France?"}
    request = ImportRequest(content=jsonl({**chat_response(PARIS), **prompt}, {**chat_response(PARIS), **prompt},
                                          {**chat_response(LONDON), **prompt}), methods=["all"], vocab_size=1000)
    with running_server(local_client) as url:
        over_http = HttpClient(url).import_logs(request)
    in_process = local_client.import_logs(request)
    (group,) = in_process.groups
    names = {s.name for s in group.analysis.scores}
    assert {"token_sar", "semantic_entropy", "semantic_volume", "sar", "predictive_entropy"} <= names
    assert set(group.analysis.left_out) == {"mean_kurtosis", "verbalized_confidence", "p_true", "rauq", "uqac", "inv_entropy"}
    assert group.analysis.meaning is not None and len(group.analysis.clusters) >= 1
    assert [s.value for s in over_http.groups[0].analysis.scores] == pytest.approx(
        [s.value for s in group.analysis.scores])
    assert over_http.model_dump(exclude={"seconds"})["note"] == in_process.note


def test_a_malformed_log_is_refused_with_its_line_and_field(api):
    broken = chat_response(PARIS)
    del broken["choices"][0]["logprobs"]["content"][0]["top_logprobs"]
    response = api.post("/v1/imports", json={"content": jsonl(chat_response(PARIS), broken)})
    assert response.status_code == 422
    assert "line 2: choices[0].logprobs.content[0].top_logprobs: is missing" in response.text
