"""`serve` refuses a bind other machines can reach without a token, unless told to (then it warns)."""
from __future__ import annotations

import pytest

import backend.cli.serve as serve
from backend import cli
from backend.errors import UserInputError


@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("127.0.0.2", True), ("::1", True),
                                            ("localhost", True), ("0.0.0.0", False), ("::", False),
                                            ("192.168.1.5", False), ("gpu-host", False)])
def test_loopback_addresses(host, loopback):
    assert serve.is_loopback(host) is loopback


def test_a_public_bind_without_a_token_exits_2_before_serving(monkeypatch, capsys):
    monkeypatch.delenv("UQLENS_API_TOKEN", raising=False)
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: pytest.fail("must not start"))
    assert cli.main(["serve", "--host", "0.0.0.0"]) == cli.EXIT_BAD_INPUT
    message = capsys.readouterr().err
    assert "UQLENS_API_TOKEN" in message and "--allow-no-token" in message and "127.0.0.1" in message


def test_allow_no_token_starts_with_a_loud_warning(monkeypatch, capsys):
    monkeypatch.delenv("UQLENS_API_TOKEN", raising=False)
    monkeypatch.setenv("UQLENS_PRELOAD_MODEL", "")
    started = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: started.update(kwargs))
    assert cli.main(["serve", "--host", "0.0.0.0", "--port", "8123", "--allow-no-token"]) == 0
    assert started["host"] == "0.0.0.0" and started["port"] == 8123
    assert "WARNING" in capsys.readouterr().err


def test_a_token_or_a_loopback_bind_starts_quietly():
    assert serve.check_exposure("0.0.0.0", 8000, "s3cret", allow_no_token=False) is None
    assert serve.check_exposure("127.0.0.1", 8000, None, allow_no_token=False) is None
    with pytest.raises(UserInputError, match="refusing"):
        serve.check_exposure("10.0.0.2", 8000, None, allow_no_token=False)


def test_a_malformed_limit_in_the_environment_exits_2_naming_it(monkeypatch, capsys):
    monkeypatch.setenv("UQLENS_MAX_RUNNING", "two")
    assert cli.main(["serve"]) == cli.EXIT_BAD_INPUT
    assert "UQLENS_MAX_RUNNING" in capsys.readouterr().err
