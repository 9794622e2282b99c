"""The OpenAPI document tells the truth: auth only with a token, every validator and service cap stated, every
error response described, OPTIONS / 405 listing every method; schemathesis finds no contract violation."""
from __future__ import annotations

import typing

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from pydantic import BaseModel
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (content_type_conformance, negative_data_rejection,
                                               response_schema_conformance, status_code_conformance)

from backend.service.app import create_app
from backend.service.openapi import VALIDATOR_RULES
from backend.service.operations import OPERATIONS
from backend.service.settings import ServiceSettings
from tests.backend.service.conftest import TOKEN, make_test_client

pytestmark = pytest.mark.slow
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CHEAP_EXAMPLES = 25
HEAVY_EXAMPLES = 3  # a valid call of a model route computes; most generated ones are refused before that
HEAVY_PATHS = {op.path for op in OPERATIONS if op.heavy}


@pytest.fixture(scope="module")
def open_api(local_client):
    """The service without a token, nothing preloaded."""
    with make_test_client(local_client, preload_model=None) as client:
        yield client


@pytest.fixture(scope="module")
def guarded_api(local_client):
    """The service with a token, nothing preloaded."""
    with make_test_client(local_client, preload_model=None, api_token=TOKEN) as client:
        yield client


def request_models() -> set[type]:
    """Every pydantic model a POST route reads, nested models included."""
    found: set[type] = set()

    def visit(annotation) -> None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation not in found:
                found.add(annotation)
                for field in annotation.model_fields.values():
                    visit(field.annotation)
        for argument in typing.get_args(annotation):
            visit(argument)

    from backend.schemas.store import SaveRequest

    for model in [op.request_type for op in OPERATIONS if op.request_type] + [SaveRequest]:
        visit(model)
    return found


def test_bearer_auth_is_declared_only_when_a_token_is_set(open_api, guarded_api):
    plain = open_api.get("/openapi.json").json()
    assert "securitySchemes" not in plain.get("components", {})
    assert not any("security" in op or "401" in op["responses"] for ops in plain["paths"].values()
                   for op in ops.values())
    guarded = guarded_api.get("/openapi.json", headers=AUTH).json()
    assert guarded["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for path, operations in guarded["paths"].items():
        for operation in operations.values():
            open_path = path in ("/livez", "/readyz")
            assert ("security" in operation) is not open_path and ("401" in operation["responses"]) is not open_path


def test_every_validator_of_every_request_model_is_stated_in_the_schema():
    stated = {(model, rule.checks) for rule in VALIDATOR_RULES for model in rule.models}
    in_code = {(model.__name__, decorator.func.__name__) for model in request_models()
               for kind in ("field_validators", "model_validators")
               for decorator in getattr(model.__pydantic_decorators__, kind).values()}
    assert in_code and in_code <= stated, f"validators without a Rule in backend/service/openapi.py: {in_code - stated}"


def test_validators_and_service_caps_appear_in_the_served_schema(open_api):
    schemas = open_api.get("/openapi.json").json()["components"]["schemas"]
    assert schemas["TextRequest"]["properties"]["prompt"]["pattern"] == r"\S"
    assert schemas["TextRequest"]["properties"]["max_new_tokens"]["maximum"] == 8  # the service's cap
    assert schemas["SaveRequest"]["properties"]["id"]["format"] == "uuid"
    assert len(schemas["ImageInput"]["oneOf"]) == 2 and "exactly one" in schemas["ImageInput"]["description"]
    assert schemas["SaliencyRequest"]["properties"]["methods"]["uniqueItems"] is True
    assert schemas["AuditRequest"]["properties"]["dataset"]["pattern"].startswith("^(builtin-qa|")
    assert schemas["AuditRequest"]["properties"]["batch_size"]["maximum"] == 16


def test_every_error_response_is_described_with_its_shape(open_api):
    paths = open_api.get("/openapi.json").json()["paths"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                assert {"413", "422"} <= operation["responses"].keys(), f"{method} {path}"
                assert "UTF-8" in operation["responses"]["422"]["description"]
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    assert response["description"] and "Refusal" in str(response["content"]), f"{path} {status}"


def test_options_and_405_list_every_method_of_every_path(open_api):
    served: dict[str, set[str]] = {}
    for route in open_api.app.routes:
        served.setdefault(route.path, set()).update(getattr(route, "methods", None) or set())
    assert served["/v1/saved/{item_id}"] >= {"GET", "DELETE"}
    for path, methods in served.items():
        concrete = path.replace("{item_id}", "x")
        response = open_api.options(concrete)
        assert response.status_code == 204, path
        assert set(response.headers["allow"].split(", ")) == methods | {"OPTIONS"}, path
        wrong = open_api.request("PATCH", concrete)
        assert wrong.status_code == 405 and wrong.headers["allow"] == response.headers["allow"], path
        assert "use" in wrong.json()["detail"]


def test_schemathesis_finds_no_contract_violation(local_client):
    """Seeded positive and negative cases for every operation: statuses, content types and bodies as documented,
    and every schema-invalid request refused."""
    app = create_app(local_client, ServiceSettings(max_new_tokens=2, preload_model=None))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    checks = [status_code_conformance, content_type_conformance, response_schema_conformance,
              negative_data_rejection]
    documented = app.openapi()["paths"]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 18
    for operation in operations:
        takes_input = documented[operation.path][operation.method.lower()].keys() & {"requestBody", "parameters"}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE) if takes_input else (GenerationMode.POSITIVE,):
            examples = HEAVY_EXAMPLES if operation.path in HEAVY_PATHS else CHEAP_EXAMPLES

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck),
                      derandomize=True, database=None)
            def conforms(case) -> None:
                case.call_and_validate(checks=checks, timeout=120)  # the first call imports

            conforms()
