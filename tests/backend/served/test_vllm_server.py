"""tests/vllm_server.py without starting vLLM: a missing venv is an error naming `make vllm`, never a skip."""
from __future__ import annotations

import socket
from pathlib import Path

import pytest

import tests.vllm_server as vllm_server


def test_a_missing_venv_says_to_run_make_vllm(monkeypatch, tmp_path):
    monkeypatch.setattr(vllm_server, "VLLM_INSTALLED", tmp_path / ".installed")
    monkeypatch.delenv(vllm_server.REUSE_ENV, raising=False)
    with pytest.raises(vllm_server.VllmMissingError, match="run `make vllm` once"):
        with vllm_server.vllm_server(tmp_path):
            pass


def test_the_command_serves_on_loopback_eagerly():
    command = vllm_server.server_command(Path("/m"), 8123)
    assert command[1:3] == ["-m", "vllm.entrypoints.openai.api_server"]
    assert command[command.index("--host") + 1] == "127.0.0.1" and "--enforce-eager" in command
    assert command[command.index("--served-model-name") + 1] == vllm_server.SERVED_NAME


def test_free_port_is_bindable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", vllm_server.free_port()))
