"""ServedModel: the base URL's shape, the key read from its variable at call time and never stored."""
from __future__ import annotations

import dataclasses

import pytest

from backend.errors import UserInputError
from backend.served.config import ServedModel


def test_location_is_normalised_and_checked():
    spec = ServedModel(location="http://127.0.0.1:8000/v1/", model="smollm2")
    assert spec.location == "http://127.0.0.1:8000/v1"
    assert spec.server_root == "http://127.0.0.1:8000"
    for bad in ("127.0.0.1:8000/v1", "http://127.0.0.1:8000", "ftp://host/v1"):
        with pytest.raises(UserInputError, match="must be an http"):
            ServedModel(location=bad, model="smollm2")


def test_model_name_and_engine_are_required_and_checked():
    with pytest.raises(UserInputError, match="served model name"):
        ServedModel(location="http://h/v1", model="")
    with pytest.raises(UserInputError, match="engine 'tgi' is not one of vllm, openai"):
        ServedModel(location="http://h/v1", model="m", engine="tgi")


def test_the_key_is_read_at_call_time_and_never_stored(monkeypatch):
    secret = "sk-live-abcdef123456"
    spec = ServedModel(location="http://h/v1", model="m", api_key_env="UQLENS_TEST_KEY")
    monkeypatch.delenv("UQLENS_TEST_KEY", raising=False)
    with pytest.raises(UserInputError, match="environment variable UQLENS_TEST_KEY, which is not set") as err:
        spec.api_key()
    monkeypatch.setenv("UQLENS_TEST_KEY", secret)
    assert spec.api_key() == secret
    assert secret not in repr(spec) and secret not in str(dataclasses.asdict(spec)) and secret not in str(err.value)
    assert ServedModel(location="http://h/v1", model="m").api_key() is None


def test_a_key_pasted_where_its_variable_name_belongs_is_refused_without_echoing_it():
    secret = "sk-live/abc+def=="
    with pytest.raises(UserInputError, match="NAME of an environment variable") as err:
        ServedModel(location="http://h/v1", model="m", api_key_env=secret)
    assert secret not in str(err.value)
