"""Reading a request body as JSON with refusals that say what to change: UTF-8 only, bounded nesting, finite numbers.

FastAPI turns every body-parsing failure other than a JSON syntax error into 400 "There was an error parsing the
body". The route class here parses the body itself and answers 422 with a detail that names the problem and the
fix, in the same {loc, msg, type} shape as any validation error.
"""
from __future__ import annotations

import json
import math
from typing import Any, Callable, Coroutine

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute

MAX_JSON_DEPTH = 64  # the service's answers and saved analyses nest fewer than 10 levels


def refusal(loc: list, msg: str, kind: str) -> HTTPException:
    """A 422 whose detail is one validation-style entry."""
    return HTTPException(422, detail=[{"loc": ["body", *loc], "msg": msg, "type": kind}])


def decode_utf8(body: bytes) -> str:
    """The body as text; 422 naming the first byte that is not UTF-8."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise refusal([], f"the body is not UTF-8 text (byte 0x{body[exc.start]:02x} at position {exc.start}); "
                          f"send JSON encoded as UTF-8", "json_not_utf8") from None


def first_problem(value: Any, max_depth: int) -> tuple[list, str, str] | None:
    """(path, message, type) of the first value nested deeper than max_depth or number that is NaN / infinite, or
    None; walked without recursion.

    value: parsed JSON (dicts, lists, strings, numbers, booleans, None).
    """
    stack: list[tuple[Any, list]] = [(value, [])]
    while stack:
        item, path = stack.pop()
        if len(path) > max_depth:
            return (path[:1], f"the JSON body is nested more than {max_depth} levels deep; this service reads at "
                              f"most {max_depth}: send a flatter object", "json_too_deep")
        if isinstance(item, float) and not math.isfinite(item):
            return (path, f"must be a finite number, got {item}: NaN and Infinity are not JSON numbers; send a "
                          f"number such as 1.0", "finite_number")
        if isinstance(item, dict):
            stack.extend((child, [*path, key]) for key, child in item.items())
        elif isinstance(item, list):
            stack.extend((child, [*path, index]) for index, child in enumerate(item))
    return None


def parse_json_body(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The parsed body; 422 (HTTPException) for text that is not UTF-8, not JSON, nested deeper than max_depth,
    or that holds NaN / Infinity (named by the field that holds it)."""
    text = decode_utf8(body)
    try:
        value = json.loads(text)
    except RecursionError:
        raise refusal([], f"the JSON body is nested too deeply to read; this service reads at most {max_depth} "
                          f"levels: send a flatter object", "json_too_deep") from None
    except json.JSONDecodeError as exc:
        raise refusal([], f"the body is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); "
                          f"send a JSON object with Content-Type: application/json", "json_invalid") from None
    problem = first_problem(value, max_depth)
    if problem is not None:
        raise refusal(*problem)
    return value


class StrictJSONRequest(Request):
    """A request whose json() is parse_json_body (422 that says what to change instead of a bare 400)."""

    async def json(self) -> Any:
        """The parsed body, cached like Starlette's."""
        if not hasattr(self, "_json"):
            self._json = parse_json_body(await self.body())
        return self._json


class StrictJSONRoute(APIRoute):
    """An APIRoute that reads JSON bodies with StrictJSONRequest."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler, given a StrictJSONRequest."""
        handler = super().get_route_handler()

        async def strict_handler(request: Request) -> Response:
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict_handler
