"""parse_json_body: UTF-8 JSON objects with bounded nesting and finite numbers, refused with the place and the fix."""
from __future__ import annotations

import pytest
from fastapi import HTTPException

from backend.service.json_body import MAX_JSON_DEPTH, parse_json_body


def refusal(body: bytes) -> dict:
    """The one detail entry parse_json_body refuses `body` with."""
    with pytest.raises(HTTPException) as caught:
        parse_json_body(body)
    assert caught.value.status_code == 422
    [entry] = caught.value.detail
    return entry


def nested(depth: int) -> bytes:
    """{"a": [[...[1]...]]} with `depth` levels below the top object."""
    return b'{"a": ' + b"[" * (depth - 1) + b"1" + b"]" * (depth - 1) + b"}"


def test_nesting_up_to_the_limit_is_read_and_one_more_level_is_refused_naming_the_field():
    assert parse_json_body(nested(MAX_JSON_DEPTH))["a"]
    entry = refusal(nested(MAX_JSON_DEPTH + 1))
    assert entry["loc"] == ["body", "a"] and entry["type"] == "json_too_deep" and "flatter" in entry["msg"]


def test_nesting_past_pythons_parser_is_refused_not_crashed():
    assert refusal(b"[" * 200_000 + b"]" * 200_000)["type"] == "json_too_deep"


@pytest.mark.parametrize("raw, loc", [(b'{"t": NaN}', ["body", "t"]),
                                      (b'{"x": {"y": [1, Infinity]}}', ["body", "x", "y", 1]),
                                      (b'{"big": 1e999}', ["body", "big"]), (b'[-Infinity]', ["body", 0])])
def test_non_finite_numbers_are_refused_where_they_are(raw, loc):
    entry = refusal(raw)
    assert entry["loc"] == loc and "must be a finite number" in entry["msg"]


def test_text_that_is_not_utf8_or_not_json_is_refused_with_the_fix():
    assert "UTF-8" in refusal(b'{"a": "\xe9"}')["msg"]
    entry = refusal(b'{"a": 1,}')
    assert entry["type"] == "json_invalid" and "line 1, column" in entry["msg"] and "application/json" in entry["msg"]


def test_ordinary_json_is_read_as_is():
    assert parse_json_body('{"prompt": "héllo", "n": [1, 2.5, null, true]}'.encode()) == {
        "prompt": "héllo", "n": [1, 2.5, None, True]}
