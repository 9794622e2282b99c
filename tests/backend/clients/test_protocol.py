"""The clients are built from the operations table: every row is a typed method of Client, LocalClient and
HttpClient; HttpClient maps a row to its HTTP call, LocalClient runs a pure row without building the engine."""
from __future__ import annotations

import inspect
import json

import httpx
import pytest

from backend.clients.http import HttpClient
from backend.clients.local import LocalClient
from backend.clients.protocol import Client
from backend.schemas import TextRequest
from backend.schemas.image import ImageMethods
from backend.service.operations import OPERATIONS, RUNS_ON, Operations


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.method_name for op in OPERATIONS])
def test_every_row_is_a_method_with_its_doc_and_signature(operation):
    for client in (LocalClient(), HttpClient("http://backend")):
        method = getattr(client, operation.method_name)
        assert method.__doc__ == operation.doc and method.__name__ == operation.method_name
        assert inspect.signature(method).return_annotation == operation.response_type
    assert getattr(Client, operation.method_name) is operation
    assert operation.runs_on in RUNS_ON and callable(operation.function())
    assert callable(operation.function(served=True))  # its served pipeline, or the same one when it has none


def test_the_rows_with_a_served_pipeline_are_those_a_served_text_model_can_answer():
    served = {op.method_name: op.served for op in OPERATIONS if op.served}
    assert served == {"analyze_text": "backend.served.text_analysis:analyze_served_text",
                      "estimate_sequence_cost": "backend.served.sequence_costs:estimate_served_cost",
                      "analyze_sequence": "backend.served.sequence_analysis:analyze_served_sequence"}
    assert Operations.text_attention.function(served=True) is Operations.text_attention.function()


def test_signatures_name_the_request_the_query_or_nothing():
    assert str(inspect.signature(LocalClient().analyze_text)) == (
        "(request: backend.schemas.text.TextRequest, /) -> backend.schemas.text.TextAnalysis")
    assert list(inspect.signature(LocalClient().image_methods).parameters) == ["model"]
    assert list(inspect.signature(LocalClient().sequence_methods).parameters) == []


def recording_client(answer: object) -> tuple[HttpClient, list[httpx.Request]]:
    """An HttpClient whose every request is recorded and answered with `answer` as JSON."""
    seen: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=answer)

    return HttpClient("http://backend", transport=httpx.MockTransport(respond)), seen


def test_http_client_gets_or_posts_each_row_and_parses_its_response_type():
    client, seen = recording_client([])
    assert client.sequence_methods() == []
    assert (seen[0].method, seen[0].url.path, seen[0].content) == ("GET", "/v1/sequence/methods", b"")
    client, seen = recording_client({"model": "m", "family": "cnn", "class_names": ["a"], "uncertainty": [],
                                     "saliency": []})
    assert client.image_methods("efficientnet-lite0") == ImageMethods(model="m", family="cnn", class_names=["a"],
                                                                       uncertainty=[], saliency=[])
    assert (seen[0].method, seen[0].url.path, seen[0].url.params["model"]) == ("GET", "/v1/image/methods",
                                                                               "efficientnet-lite0")
    client, seen = recording_client({})
    request = TextRequest(prompt="What is 2+2?", max_new_tokens=3)
    with pytest.raises(ValueError):  # the answer is parsed as the row's response type (TextAnalysis)
        client.analyze_text(request)
    assert (seen[0].method, seen[0].url.path) == ("POST", "/v1/text")
    assert json.loads(seen[0].content) == json.loads(request.model_dump_json())


def test_a_class_row_is_an_unbound_method():
    client, seen = recording_client([])
    assert HttpClient.sequence_methods(client) == [] and seen[0].url.path == "/v1/sequence/methods"
    assert Operations.sequence_methods.method_name == "sequence_methods"


def test_local_client_runs_a_pure_row_without_building_the_engine():
    from backend.text.saliency import catalog

    client = LocalClient()
    assert client.text_saliency_catalog() == catalog()
    assert client._engine is None
