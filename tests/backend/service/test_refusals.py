"""Every refusal of the service names the field or header it is about and says what to change.

A battery of bad requests goes to every POST route: an empty body, the wrong Content-Type, broken, non-UTF-8,
too deeply nested and non-object JSON, unknown and mistyped fields, NaN and Infinity, and bodies over the size cap
(declared and streamed). Each answer must be the expected 4xx and its detail must say what to change.
"""
from __future__ import annotations

import json
import uuid
from typing import Any, Iterator

import pytest

from backend.service.operations import OPERATIONS
from tests.backend.service.conftest import make_test_client

pytestmark = pytest.mark.slow
JSON = {"Content-Type": "application/json"}
# A valid-looking body per route and one number field of it (None: the route has no number field).
BASES: dict[str, tuple[dict, str]] = {
    "/v1/text": ({"prompt": "hi", "max_new_tokens": 2}, "temperature"),
    "/v1/text/attention": ({"ids": [1, 2, 3], "answer_start": 2}, "answer_start"),
    "/v1/text/saliency": ({"ids": [1, 2, 3], "answer_start": 2}, "temperature"),
    "/v1/sequence/cost": ({"text": {"prompt": "hi", "max_new_tokens": 2}}, "sample_temperature"),
    "/v1/sequence": ({"text": {"prompt": "hi", "max_new_tokens": 2}}, "sample_temperature"),
    "/v1/image": ({"image": {"sample": "cat"}}, "temperature"),
    "/v1/image/uncertainty": ({"image": {"sample": "cat"}, "method": "mc_dropout"}, "passes"),
    "/v1/image/saliency": ({"image": {"sample": "cat"}, "methods": ["gradient"]}, "seed"),
    "/v1/audit/datasets": ({"filename": "a.jsonl", "data": "e30="}, "data"),
    "/v1/audit/start": ({}, "grading_threshold"),
    "/v1/audit/batch": ({}, "grading_threshold"),
    "/v1/audit/result": ({}, "grading_threshold"),
    "/v1/audit/report": ({}, "grading_threshold"),
    "/v1/audit/relative-cost": ({"methods": ["relative_confidence"]}, "grading_threshold"),
    "/v1/audit/override": ({"audit_id": "a" * 16, "index": 0, "verdict": True}, "index"),
    "/v1/audit/compare": ({"audit_a": "a" * 16, "audit_b": "b" * 16}, "level"),
    "/v1/imports": ({"content": "{}"}, "similarity_threshold"),
    "/v1/text/compare": ({"first": {"prompt": "hi", "max_new_tokens": 2}, "second": {"prompt": "hi"}},
                         "first.temperature"),
    "/v1/saved": ({"id": str(uuid.uuid4()), "kind": "text", "title": "t", "payload": {}}, "payload"),
    "/v1/text/stream": ({"prompt": "hi", "max_new_tokens": 2}, "temperature"),
    "/v1/text/stream/stop": ({"stream_id": "s"}, "stream_id"),
}
POST_PATHS = [op.path for op in OPERATIONS if op.request_type is not None] + ["/v1/saved", "/v1/text/stream",
                                                                              "/v1/text/stream/stop"]
# Phrases that state a problem without saying which field or what to send instead.
VAGUE = ("There was an error parsing the body", "JSON decode error", "Field required",
         "Input should be a valid dictionary", "Extra inputs are not permitted")


def chunks(total: int, size: int = 1 << 20) -> Iterator[bytes]:
    """A streamed (chunked) JSON-ish body of `total` bytes, without a Content-Length."""
    yield b'{"prompt": "'
    for _ in range(total // size):
        yield b"a" * size
    yield b'"}'


def with_value(base: dict, field: str, raw: str) -> bytes:
    """The base body as JSON text with `field` (dotted for a nested one: "first.temperature") set to the raw JSON
    token `raw` (e.g. NaN)."""
    head, _, rest = field.partition(".")
    value = json.loads(with_value(base.get(head, {}), rest, '"__VALUE__"')) if rest else "__VALUE__"
    text = json.dumps({**base, head: value})
    return text.replace('"__VALUE__"', raw).encode()


def battery(path: str) -> list[tuple[str, dict[str, Any], int, str]]:
    """(case, httpx keyword arguments, expected status, a word the message must hold) for one POST route."""
    base, number = BASES[path]
    oversize = 50_000_000 if path.startswith(("/v1/image", "/v1/audit/datasets", "/v1/imports")) else 2_000_000
    return [
        ("empty body", dict(content=b"", headers=JSON), 422, "empty"),
        ("no body, no Content-Type", dict(), 422, "empty"),
        ("wrong Content-Type", dict(content=json.dumps(base).encode(), headers={"Content-Type": "text/plain"}),
         422, "Content-Type"),
        ("JSON without Content-Type", dict(content=json.dumps(base).encode()), 422, "Content-Type"),
        ("form body", dict(data={"prompt": "hi"}), 422, "Content-Type"),
        ("malformed JSON", dict(content=b"{not json", headers=JSON), 422, "JSON"),
        ("non-UTF-8 body", dict(content=b'{"prompt": "\xff\xfe"}', headers=JSON), 422, "UTF-8"),
        ("deep JSON", dict(content=b"[" * 100_000 + b"]" * 100_000, headers=JSON), 422, "nested"),
        ("deep JSON in a field", dict(content=with_value(base, "x", "[" * 200 + "]" * 200), headers=JSON),
         422, "nested"),
        ("JSON array", dict(json=[base]), 422, "object"),
        ("JSON string", dict(json="hello"), 422, "object"),
        ("unknown field", dict(json={**base, "unexpected": 1}), 422, "remove"),
        ("NaN", dict(content=with_value(base, number, "NaN"), headers=JSON), 422, "finite"),
        ("Infinity", dict(content=with_value(base, number, "-Infinity"), headers=JSON), 422, "finite"),
        ("declared body over the cap", dict(content=b" " * oversize, headers=JSON), 413, "bytes"),
        ("streamed body over the cap", dict(content=chunks(oversize), headers=JSON), 413, "bytes"),
    ]


def messages(detail: Any) -> list[tuple[list, str]]:
    """(loc, msg) pairs of a detail: one pair with an empty loc for a plain string."""
    if isinstance(detail, str):
        return [([], detail)]
    return [(list(entry.get("loc", [])), str(entry.get("msg", ""))) for entry in detail]


def says_what_to_change(status: int, detail: Any, must_hold: str, expected: int) -> bool:
    """The refusal has the expected status, every message holds `must_hold` (case-insensitive) and no vague
    phrase, and each validation entry names a field (a loc below `body`) or the body / a header in its text."""
    if status != expected:
        return False
    for loc, msg in messages(detail):
        if must_hold.lower() not in msg.lower() or any(phrase in msg for phrase in VAGUE):
            return False
        if loc and len(loc) < 2 and not any(word in msg for word in ("body", "Content-Type", "JSON")):
            return False
    return True


@pytest.fixture(scope="module")
def quiet_api(local_client):
    """The service without a preloaded model: every request here is refused before any model runs."""
    with make_test_client(local_client, preload_model=None) as client:
        yield client


def test_every_refusal_names_the_field_or_header_and_the_fix(quiet_api, capsys):
    assert set(POST_PATHS) <= BASES.keys(), f"give BASES a body for {set(POST_PATHS) - BASES.keys()}"
    unclear = []
    total = 0
    for path in POST_PATHS:
        for case, kwargs, expected, must_hold in battery(path):
            response = quiet_api.post(path, **kwargs)
            total += 1
            body = response.json() if response.headers.get("content-type") == "application/json" else {}
            if not says_what_to_change(response.status_code, body.get("detail"), must_hold, expected):
                unclear.append(f"{path} {case}: {response.status_code} {response.text[:200]}")
    with capsys.disabled():
        print(f"\nrefusals: {total} bad requests over {len(POST_PATHS)} POST routes, "
              f"{len(unclear)} answered without saying what to change")
        for line in unclear:
            print("  " + line)
    assert not unclear


def test_a_path_no_route_serves_says_where_the_routes_are(quiet_api):
    response = quiet_api.post("/v1/txet", json={"prompt": "hi"})
    assert response.status_code == 404 and "/openapi.json" in response.json()["detail"]
