"""The service's OpenAPI document, made to tell the truth about what the code checks.

FastAPI derives the schema from the pydantic models, which leaves out the checks written as validators (a blank
prompt, exactly one image source, a UUID id, ...) and the service's own caps (max_new_tokens, batch_size, datasets
over HTTP). Each such check is one Rule here, stated as JSON Schema keywords where it can be and in the field's
description always; a test holds every validator of every request model to a rule. Error responses get a
description and the shape of their `detail`; 401 and the bearer scheme appear only when a token is set.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Optional

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from backend.audit.uploads import UPLOAD_PREFIX
from backend.schemas.audit import BUILTIN_DIGITS, BUILTIN_QA, MAX_AUDIT_UPLOAD_BYTES
from backend.schemas.image import MAX_UPLOAD_BYTES
from backend.schemas.store import MAX_PAYLOAD_DEPTH
from backend.service.json_body import MAX_JSON_DEPTH
from backend.service.settings import ServiceSettings

NOT_BLANK = r"\S"
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
SAVED_ID = {"type": "string", "format": "uuid",
            "pattern": r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
            "description": "the saved item's id as saves answer it (a lower-case UUID); any other id is 404"}
TEXT_IDS = ("TextAttentionRequest", "TextSaliencyRequest")


def base64_length(size_bytes: int) -> int:
    """Characters of the base64 text of `size_bytes` bytes (padded)."""
    return 4 * math.ceil(size_bytes / 3)


@dataclass(frozen=True)
class Rule:
    """One check made in code, as the schema states it.

    models: the schema components it applies to. field: the property, or None for the object as a whole.
    checks: what in the code makes the check (a validator's function name, or "service" for the service's caps).
    text: appended to the description. keywords: JSON Schema keywords merged into the property's non-null form.
    """

    models: tuple[str, ...]
    field: Optional[str]
    checks: str
    text: str
    keywords: dict = field(default_factory=dict)


VALIDATOR_RULES = (
    Rule(("TextRequest",), "prompt", "_prompt_not_blank", "must hold a character other than white space",
         {"pattern": NOT_BLANK}),
    Rule(("TextRequest",), "answer", "_answer_not_blank", "when given, must hold a character other than white space",
         {"pattern": NOT_BLANK}),
    Rule(("TextRequest",), "prefix", "_prefix_not_blank", "when given, must hold a character other than white space",
         {"pattern": NOT_BLANK}),
    Rule(("TextRequest",), None, "_one_beginning", "at most one of answer, prefix and prefix_ids is given (not null)"),
    Rule(TEXT_IDS, "answer_start", "_answer_inside", "must be below the number of ids (the answer is not empty)"),
    Rule(TEXT_IDS, "ids", "_answer_inside", "token ids are not negative", {"items": {"type": "integer", "minimum": 0}}),
    Rule(("TextSaliencyRequest",), "positions", "_positions_in_answer",
         "each position at most once, each from answer_start to len(ids) - 1", {"uniqueItems": True}),
    Rule(("TextSaliencyRequest",), "alternative_id", "_positions_in_answer",
         "may be given only together with exactly one position"),
    Rule(("SequenceRequest", "AuditRequest", "ImportRequest"), "methods", "_methods_named",
         "each name holds a character other than white space; repeats count once",
         {"items": {"type": "string", "pattern": NOT_BLANK}}),
    Rule(("TextComparisonRequest",), None, "_same_prompt", "first.prompt and second.prompt are the same text"),
    Rule(("AuditComparisonRequest",), None, "_two_sides",
         "audit_b differs from audit_a, or method_b from method_a (two methods of one audit)"),
    Rule(("ImageInput",), None, "_one_source", "exactly one of sample and data is given (not null)",
         {"oneOf": [{"required": ["sample"], "properties": {"sample": {"type": "string"}, "data": {"type": "null"}}},
                    {"required": ["data"], "properties": {"data": {"type": "string"}, "sample": {"type": "null"}}}]}),
    Rule(("ImageInput",), "data", "_data_size",
         f"not empty, at most {MAX_UPLOAD_BYTES // 2**20} MiB decoded; a PNG, JPEG or WebP file (read from the "
         f"content)", {"minLength": 1, "maxLength": base64_length(MAX_UPLOAD_BYTES)}),
    Rule(("SaliencyRequest",), "methods", "_unique", "each method at most once", {"uniqueItems": True}),
    Rule(("SaliencyRequest",), "class_index", "_class_given", "required when target is 'class'"),
    Rule(("AuditDatasetUpload",), "data", "_data_size", f"not empty, at most {MAX_AUDIT_UPLOAD_BYTES // 2**20} MiB "
         f"decoded", {"minLength": 1, "maxLength": base64_length(MAX_AUDIT_UPLOAD_BYTES)}),
    Rule(("SaveRequest",), "id", "_id_is_uuid", "a UUID such as 1b4e28ba-2fa1-11d2-883f-0016d3cca427",
         {"format": "uuid", "pattern": UUID_PATTERN}),
    Rule(("SaveRequest",), "title", "_title_not_blank", "must hold a character other than white space (it is "
         "stripped)", {"pattern": NOT_BLANK}),
    Rule(("SaveRequest",), "tags", "_clean_tags", "each tag at most 40 characters once stripped, without NUL "
         "characters; tags are lower-cased and repeats dropped", {"items": {"type": "string", "maxLength": 40}}),
    *(Rule(("SaveRequest",), name, "_no_nul", "no NUL character (\\u0000)") for name in ("title", "notes", "model")),
    *(Rule(("SaveRequest",), name, "_plain_json", f"plain JSON nested at most {MAX_PAYLOAD_DEPTH} levels, every "
           "number finite (no NaN or Infinity)") for name in ("payload", "request")),
)


def service_rules(settings: ServiceSettings) -> tuple[Rule, ...]:
    """The caps the service adds to the models' own bounds (check_work_caps)."""
    tokens = settings.max_new_tokens
    return (
        Rule(("TextRequest",), "max_new_tokens", "service", f"this service generates at most {tokens} tokens",
             {"maximum": tokens}),
        Rule(("AuditRequest",), "max_new_tokens", "service",
             f"this service generates at most {tokens} tokens per answer (question datasets)", {"maximum": tokens}),
        Rule(("AuditRequest",), "batch_size", "service",
             f"this service computes at most {settings.max_audit_batch} items per request",
             {"maximum": settings.max_audit_batch}),
        Rule(("AuditRequest",), "dataset", "service", f"over HTTP: {BUILTIN_QA}, {BUILTIN_DIGITS} or an uploaded "
             f"{UPLOAD_PREFIX}NAME, never a path on the server",
             {"pattern": f"^({BUILTIN_QA}|{BUILTIN_DIGITS}|{UPLOAD_PREFIX}.+)$"}),
    )


def merge(target: dict, keywords: dict) -> None:
    """Merge keywords into a schema, into its non-null forms when it is an anyOf with null; nested dicts merge."""
    forms = [form for form in target.get("anyOf", []) if form.get("type") != "null"] or [target]
    for form in forms:
        for key, value in keywords.items():
            if isinstance(value, dict) and isinstance(form.get(key), dict):
                form[key] = {**form[key], **value}
            else:
                form[key] = value


def apply_rule(components: dict, rule: Rule) -> None:
    """State one rule in the components' schemas."""
    for model in rule.models:
        schema = components[model]
        target = schema if rule.field is None else schema["properties"][rule.field]
        description = target.get("description", "")
        target["description"] = f"{description}; {rule.text}" if description else rule.text
        merge(target, rule.keywords)


REFUSAL_SCHEMA = {
    "title": "Refusal",
    "type": "object",
    "required": ["detail"],
    "properties": {"detail": {"anyOf": [
        {"type": "string", "description": "what went wrong and what to change"},
        {"type": "array", "items": {"type": "object", "required": ["loc", "msg", "type"], "properties": {
            "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
            "msg": {"type": "string"}, "type": {"type": "string"}}},
         "description": "one entry per problem: loc names the field (or the body), msg says what to change"}]}},
}


def refusal_descriptions(settings: ServiceSettings) -> dict[str, str]:
    """Status code -> what it means on this service."""
    return {
        "401": "missing or wrong bearer token (Authorization: Bearer UQLENS_API_TOKEN); the body is not read",
        "404": "unknown model id or saved item",
        "409": "a save reused an id for different content",
        "413": f"body over {settings.max_body_bytes} bytes ({settings.max_image_body_bytes} on /v1/image* and "
               f"/v1/audit/datasets), declared or streamed",
        "422": f"the request cannot be served as sent; detail says what to change. Besides the rules in the "
               f"schema: the body must be UTF-8 JSON with Content-Type: application/json, nested at most "
               f"{MAX_JSON_DEPTH} levels, with finite numbers only (no NaN or Infinity), and what the content "
               f"refers to must exist (a registered method, a readable image or dataset, a prompt within the "
               f"model's context)",
        "429": "busy: retry after the Retry-After header's seconds",
        "503": "the service cannot compute this now: not ready, a model failed to load, or out of GPU memory (with "
               "Retry-After); detail says which",
    }


PARAMETER_422 = "a query or path parameter breaks a rule in the schema; detail names it and says what to change"


def document_responses(paths: dict, settings: ServiceSettings) -> None:
    """Give each error response of each operation its description and the Refusal shape; add 401 where the
    token is required and 413 and 422 wherever a body is read."""
    descriptions = refusal_descriptions(settings)
    for path, operations in paths.items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if "requestBody" in operation:
                responses.setdefault("413", {})
                responses.setdefault("422", {})
            if settings.api_token is not None and path not in ("/livez", "/readyz"):
                responses.setdefault("401", {})
            for status, response in responses.items():
                if status in descriptions:
                    takes_body = status != "422" or "requestBody" in operation
                    response["description"] = descriptions[status] if takes_body else PARAMETER_422
                    response["content"] = {"application/json": {"schema": {"$ref": "#/components/schemas/Refusal"}}}


def document_saved_id(paths: dict) -> None:
    """State what a saved item's id in a path looks like."""
    for path, operations in paths.items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"] == "item_id":
                    parameter["schema"] = {**parameter["schema"], **SAVED_ID}


def truthful_openapi(app: FastAPI, settings: ServiceSettings) -> dict[str, Any]:
    """FastAPI's OpenAPI document of `app` with every rule, service cap and error response stated."""
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Refusal"] = REFUSAL_SCHEMA
    for rule in (*VALIDATOR_RULES, *service_rules(settings)):
        apply_rule(components, rule)
    document_responses(schema.get("paths", {}), settings)
    document_saved_id(schema.get("paths", {}))
    return schema


def install_openapi(app: FastAPI, settings: ServiceSettings) -> None:
    """Serve truthful_openapi at /openapi.json (built once, on first use)."""
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = truthful_openapi(app, settings)
        return app.openapi_schema

    app.openapi = openapi
