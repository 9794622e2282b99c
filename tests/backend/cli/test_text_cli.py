"""The command line: one real subprocess run end to end, the rest in-process on the session's engine."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import backend.clients.local
from backend import cli
from backend.cli.text import format_table
from backend.schemas import DEFAULT_EMBEDDING_MODEL, DEFAULT_IMAGE_MODEL, DEFAULT_TEXT_MODEL, TextRequest

pytestmark = pytest.mark.slow

PROJECT_ROOT = Path(__file__).resolve().parents[3]
TOKEN_KEYS = {"text", "id", "prob", "logprob", "entropy", "rank", "top_k"}


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"UQLENS_TEXT_MODELS", "UQLENS_MODELS_FILE"}}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", UQLENS_DEVICE="cpu")
    return subprocess.run([sys.executable, "-m", "backend", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def local_engine(monkeypatch, engine):
    """Make the CLI's LocalClient use the session engine instead of loading the model again."""
    real = backend.clients.local.LocalClient
    monkeypatch.setattr(backend.clients.local, "LocalClient", lambda: real(engine))
    return engine


def check_token(token: dict) -> None:
    assert TOKEN_KEYS <= token.keys()
    assert 0.0 <= token["prob"] <= 1.0
    assert token["rank"] >= 1
    assert token["top_k"] and all(set(a) == {"text", "id", "prob"} for a in token["top_k"])


def test_subprocess_text_json_prints_one_result_object():
    done = run_cli("text", "What is 2+2?", "--max-new-tokens", "8", "--json")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert {"model", "prompt", "generated_text", "tokens"} <= result.keys()
    assert result["model"] == DEFAULT_TEXT_MODEL
    assert result["prompt"] == "What is 2+2?"
    assert result["chat_template"] is True
    assert 1 <= len(result["tokens"]) <= 8
    for token in result["tokens"]:
        check_token(token)


def test_subprocess_blank_prompt_exits_2_with_message():
    done = run_cli("text", "   ")
    assert done.returncode == 2
    assert "prompt is empty" in done.stderr
    assert done.stdout == ""


def test_models_lists_the_default_ids(local_engine, capsys):
    assert cli.main(["models"]) == 0
    out = capsys.readouterr().out
    for model_id in (DEFAULT_TEXT_MODEL, DEFAULT_IMAGE_MODEL, DEFAULT_EMBEDDING_MODEL):
        assert model_id in out
    assert "(default)" in out


def run_json(capsys, *args: str) -> dict:
    assert cli.main(["text", *args, "--json"]) == 0
    captured = capsys.readouterr()
    return json.loads(captured.out)


def test_no_chat_template_gives_chat_template_false(local_engine, capsys):
    result = run_json(capsys, "The capital of France is", "--max-new-tokens", "3", "--no-chat-template")
    assert result["chat_template"] is False
    assert result["model_input"] == "The capital of France is"
    for token in result["tokens"]:
        check_token(token)


def test_answer_gives_score_mode(local_engine, capsys):
    result = run_json(capsys, "What is 2+2?", "--answer", "4")
    assert result["mode"] == "score"
    assert result["stop_reason"] == "scored"
    assert result["generated_text"] == "4"
    assert [t["text"] for t in result["tokens"]] == ["4"]


def test_top_k_option_sets_alternatives(local_engine, capsys):
    result = run_json(capsys, "Hi", "--answer", "Hello", "--top-k", "2")
    assert all(len(t["top_k"]) == 2 for t in result["tokens"])


def test_unknown_model_exits_2_naming_the_registered_ids(local_engine, capsys):
    assert cli.main(["text", "Hi", "--model", "no-such-model"]) == 2
    err = capsys.readouterr().err
    assert "no-such-model" in err and DEFAULT_TEXT_MODEL in err


def test_non_text_model_exits_2(local_engine, capsys):
    assert cli.main(["text", "Hi", "--model", DEFAULT_IMAGE_MODEL]) == 2
    assert "pick a text model" in capsys.readouterr().err


def test_out_of_range_options_exit_2_with_the_field_named(local_engine, capsys):
    assert cli.main(["text", "Hi", "--max-new-tokens", "0"]) == 2
    assert "max_new_tokens" in capsys.readouterr().err
    assert cli.main(["text", "Hi", "--temperature", "0"]) == 2
    assert "temperature" in capsys.readouterr().err


def test_blank_answer_exits_2(local_engine, capsys):
    assert cli.main(["text", "Hi", "--answer", "  "]) == 2
    assert "answer to score is empty" in capsys.readouterr().err


def test_missing_prompt_is_an_argparse_error():
    with pytest.raises(SystemExit) as info:
        cli.main(["text"])
    assert info.value.code == 2


def test_table_output_without_json(local_engine, capsys):
    assert cli.main(["text", "What is 2+2?", "--answer", "4"]) == 0
    out = capsys.readouterr().out
    assert "model: " + DEFAULT_TEXT_MODEL in out
    assert "stop: scored" in out
    assert "Perplexity" in out


def test_format_table_lists_every_token_and_summary(engine):
    result = engine.analyze_text(TextRequest(prompt="Name a colour.", answer="Blue is a colour."))
    table = format_table(result)
    lines = table.splitlines()
    assert lines[0].startswith(f"model: {DEFAULT_TEXT_MODEL}")
    assert lines[1] == "answer: Blue is a colour."
    for token in result.tokens:
        assert repr(token.text) in table
        assert f"{token.prob:.3f}" in table
    for summary in result.summaries:
        assert f"{summary.label}: {summary.value:.4f} (higher = more {summary.higher_is})" in table
    assert len(lines) == 4 + len(result.tokens) + 1 + len(result.summaries)
