"""`text --stream`: tokens on stderr as they come, the usual JSON on stdout (equal to the non-streamed one), and
Ctrl-C in a real subprocess ends generation early with the analysis of the tokens so far."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

import backend.clients.local
from backend import cli
from tests.backend.cli.test_text_cli import PROJECT_ROOT

pytestmark = pytest.mark.slow
PROMPT = "Name three rivers of Europe."


@pytest.fixture
def local_engine(monkeypatch, engine):
    real = backend.clients.local.LocalClient
    monkeypatch.setattr(backend.clients.local, "LocalClient", lambda: real(engine))
    return engine


def test_stream_prints_the_tokens_to_stderr_and_the_same_json_to_stdout(local_engine, capsys):
    assert cli.main(["text", PROMPT, "--max-new-tokens", "6", "--stream", "--json"]) == 0
    streamed = capsys.readouterr()
    assert cli.main(["text", PROMPT, "--max-new-tokens", "6", "--json"]) == 0
    plain = json.loads(capsys.readouterr().out)
    result = json.loads(streamed.out)
    assert {k: v for k, v in result.items() if k != "seconds"} == {k: v for k, v in plain.items() if k != "seconds"}
    assert streamed.err == "".join(t["text"] for t in result["tokens"]) + "\n"


def test_ctrl_c_ends_a_streamed_generation_and_keeps_what_came():
    env = {k: v for k, v in os.environ.items() if k not in {"UQLENS_TEXT_MODELS", "UQLENS_MODELS_FILE"}}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", UQLENS_DEVICE="cpu", PYTHONUNBUFFERED="1")
    process = subprocess.Popen([sys.executable, "-m", "backend", "text", "Tell me a long story about a storm.",
                                "--max-new-tokens", "300", "--sample", "--temperature", "1.5", "--stream", "--json"],
                               cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        os.set_blocking(process.stderr.fileno(), False)
        seen, deadline = b"", time.time() + 240
        while len(seen.strip()) < 12 and time.time() < deadline and process.poll() is None:
            try:
                seen += os.read(process.stderr.fileno(), 4096)
            except BlockingIOError:
                time.sleep(0.2)
        assert len(seen.strip()) >= 12, seen
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    result = json.loads(out)
    assert result["stop_reason"] == "stopped" and 0 < len(result["tokens"]) < 300
    assert b"[stopped after" in seen + err
