"""A bad UQLENS_MODELS_FILE makes the CLI exit 2 with a message naming the entry, the key and the fix."""
from __future__ import annotations

import json

import pytest

from backend import cli
from backend.models.registry import MODELS_FILE_KEYS


def write_models_file(tmp_path, monkeypatch, entries) -> None:
    """Point UQLENS_MODELS_FILE at a file holding `entries` (a JSON value, or raw text when a str)."""
    path = tmp_path / "models.json"
    path.write_text(entries if isinstance(entries, str) else json.dumps(entries))
    monkeypatch.setenv("UQLENS_MODELS_FILE", str(path))
    monkeypatch.delenv("UQLENS_TEXT_MODELS", raising=False)


def test_an_unknown_key_exits_2_naming_the_key_the_entry_and_the_allowed_keys(tmp_path, monkeypatch, capsys):
    write_models_file(tmp_path, monkeypatch, [
        {"id": "fine", "kind": "text", "location": "/m/a"},
        {"id": "vit-s", "kind": "image", "location": "/m/vit.safetensors", "archh": "vit_small_patch16_224"}])
    assert cli.main(["models"]) == cli.EXIT_BAD_INPUT
    message = capsys.readouterr().err
    assert "entry 2 ('vit-s')" in message and "'archh'" in message
    assert all(key in message for key in MODELS_FILE_KEYS)


@pytest.mark.parametrize("entries, words", [
    ("[{not json", "not UTF-8 JSON"),
    ({"id": "x"}, "JSON list"),
    (["x"], "entry 1 is a str"),
    ([{"id": "x", "kind": "text"}], "lacks 'location'"),
    ([{"id": "x", "kind": "text", "location": "/m/a", "chat": "yes"}], "'chat' = 'yes'; it must be a JSON true/false"),
    ([{"id": "x", "kind": "audio", "location": "/m/a"}], "kind 'audio' is not one of"),
    ([{"id": "x", "kind": "text", "loader": "timm", "location": "/m/a"}], "cannot load a text model"),
    ([{"id": "smollm2-135m-instruct", "kind": "text", "location": "/m/a"}], "give it another id"),
])
def test_every_malformed_entry_exits_2_with_what_to_change(tmp_path, monkeypatch, capsys, entries, words):
    write_models_file(tmp_path, monkeypatch, entries)
    assert cli.main(["models"]) == cli.EXIT_BAD_INPUT
    assert words in capsys.readouterr().err


def test_a_missing_models_file_exits_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("UQLENS_MODELS_FILE", str(tmp_path / "absent.json"))
    assert cli.main(["models"]) == cli.EXIT_BAD_INPUT
    assert "cannot read it" in capsys.readouterr().err


def test_the_models_command_says_each_models_engine_and_what_it_can_do(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MY_KEY", "sk-not-printed-93b2")
    write_models_file(tmp_path, monkeypatch, [{"id": "big", "kind": "text", "loader": "openai",
                                               "location": "http://gpu1:8000/v1", "model": "llama-70b",
                                               "api_key_env": "MY_KEY"}])
    assert cli.main(["models"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert lines["big"].split()[1:3] == ["text", "vllm"]
    assert lines["big"].endswith("[token_logprobs, score_given_answer, generate]") and "sk-not-printed" not in lines["big"]
    local = lines["smollm2-135m-instruct"]
    assert local.split()[1:4] == ["text", "in-process", "(default)"] and "attention, gradients" in local
