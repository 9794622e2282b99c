"""The service's 422 for a request body that fails validation: each entry names the field or header and the fix.

pydantic's own messages name the rule ("Input should be less than or equal to 10") and the loc names the field;
the cases where they do not say what to send instead (an empty body, a body that is not JSON by its Content-Type,
JSON that is not an object, a missing or unknown field) are rewritten here. The offending input is never echoed:
it may be huge or not text at all.
"""
from __future__ import annotations

import email.message
import typing
from typing import Any, Optional

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

BODY_NOT_AN_OBJECT = {"model_attributes_type", "dict_type", "model_type"}


def is_json_type(content_type: Optional[str]) -> bool:
    """Whether a Content-Type header value is application/json or application/*+json."""
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


def model_at(model: Optional[type], path: list) -> Optional[type]:
    """The pydantic model that holds the field at `path` (field names and list indices) below `model`, if any."""
    for key in path:
        if isinstance(key, int):
            continue
        field = model.model_fields.get(key) if model is not None else None
        if field is None:
            return None
        model = nested_model(field.annotation)
    return model


def nested_model(annotation: Any) -> Optional[type]:
    """The pydantic model inside an annotation such as Model, Optional[Model] or list[Model], if there is one."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in typing.get_args(annotation):
        found = nested_model(argument)
        if found is not None:
            return found
    return None


def required_example(model: Optional[type]) -> str:
    """The required fields of a body model, as words for a message."""
    if model is None:
        return "a JSON object"
    required = [name for name, field in model.model_fields.items() if field.is_required()]
    fields = f"with at least {', '.join(required)}" if required else "(every field has a default: {} is enough)"
    return f"a JSON object {fields}"


def body_message(kind: str, content_type: Optional[str], model: Optional[type]) -> str:
    """What to change when the body as a whole is refused (missing, not JSON, not an object)."""
    if kind == "missing":
        return f"the request body is empty; send {required_example(model)}, with Content-Type: application/json"
    if not content_type:
        return "Content-Type is missing; send the header Content-Type: application/json"
    if not is_json_type(content_type):
        return (f"Content-Type is {content_type[:100]!r}, not JSON; send the body as {required_example(model)}, "
                f"with the header Content-Type: application/json")
    return f"the body must be {required_example(model)}, not a JSON array, string or number"


def field_message(error: dict, model: Optional[type]) -> str:
    """What to change about one field of the body: pydantic's message, or a fix for a missing / unknown field."""
    loc = list(error.get("loc", []))
    kind = error.get("type", "")
    name = ".".join(map(str, loc[1:]))
    if kind == "missing":
        return f"{name} is required: add it"
    if kind == "extra_forbidden":
        owner = model_at(model, loc[1:-1])
        allowed = f" (the fields are: {', '.join(owner.model_fields)})" if owner is not None else ""
        return f"{name} is not a field of this request: remove it{allowed}"
    return str(error.get("msg", "")).removeprefix("Value error, ")


def explain(error: dict, content_type: Optional[str], model: Optional[type]) -> dict:
    """One validation error as {loc, msg, type} with a message that says what to change."""
    loc = list(error.get("loc", []))
    kind = error.get("type", "")
    if loc == ["body"] and (kind == "missing" or kind in BODY_NOT_AN_OBJECT):
        message = body_message(kind, content_type, model)
    elif loc[:1] == ["body"]:
        message = field_message(error, model)
    else:
        message = str(error.get("msg", "")).removeprefix("Value error, ")
    return {"loc": loc, "msg": message, "type": kind}


def body_model(request: Request) -> Optional[type]:
    """The pydantic model the matched route reads its body into, if any."""
    field = getattr(request.scope.get("route"), "body_field", None)
    return nested_model(field.field_info.annotation) if field is not None else None


async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 with one entry per problem, each saying what to change."""
    content_type = request.headers.get("content-type")
    model = body_model(request)
    return JSONResponse({"detail": [explain(error, content_type, model) for error in exc.errors()]}, status_code=422)


async def http_refusal(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """FastAPI's answer to an HTTPException, with a 404 for a path no route serves saying where the routes are."""
    detail = exc.detail
    if exc.status_code == 404 and detail == "Not Found":
        detail = (f"no route serves {request.method} {request.url.path[:200]}; the routes are listed in "
                  f"/openapi.json and at /docs")
    return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)
