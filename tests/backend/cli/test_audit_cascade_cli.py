"""python -m backend audit --defer-to: a seeded tiny random Llama (the small model, saved as a local folder and
registered like any UQLENS_TEXT_MODELS entry) defers to the embedded SmolLM2-135M-Instruct on the first 6 bundled
questions; both audits are kept under their own ids, the JSON carries `cascade`, the report its section, and a
second run resumes both without computing anything."""
from __future__ import annotations

import json

import pytest

from backend.cli import main
from backend.engine import Engine
from backend.schemas import DEFAULT_TEXT_MODEL


@pytest.fixture
def small_model(tmp_path, tiny_lm, monkeypatch) -> str:
    folder = tmp_path / "tiny-random"
    tiny_lm.model.save_pretrained(folder, safe_serialization=True)
    tiny_lm.tokenizer.save_pretrained(folder)
    monkeypatch.setenv("UQLENS_TEXT_MODELS", f"tiny-random={folder}")
    monkeypatch.setenv("UQLENS_DATABASE_URL", f"sqlite:///{tmp_path}/audit.sqlite")
    engine = Engine(device="cpu")  # its registry has tiny-random; one for both runs, so the models load once
    monkeypatch.setattr("backend.engine.Engine", lambda: engine)
    return "tiny-random"


@pytest.mark.slow  # about 35 s on 2 CPU cores: two models answer 6 questions, then the second run resumes both
def test_audit_defer_to_writes_the_cascade(small_model, tmp_path, capsys):
    out, report = tmp_path / "out.json", tmp_path / "report.html"
    argv = ["audit", "--dataset", "builtin-qa", "--limit", "6", "--model", small_model, "--defer-to",
            DEFAULT_TEXT_MODEL, "--max-new-tokens", "8", "--json", str(out), "--html", str(report)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    data = json.loads(out.read_text())
    cascade = data["cascade"]
    assert data["model_id"] == small_model and data["request"]["defer_to"] == DEFAULT_TEXT_MODEL
    assert cascade["refused"] is None and cascade["n"] == 6 and cascade["large_model"] == DEFAULT_TEXT_MODEL
    assert cascade["small_audit_id"] == data["audit_id"] != cascade["large_audit_id"]
    assert cascade["small_accuracy"] == pytest.approx(data["accuracy"])
    assert all(len(item["token_logprobs"]) >= 1 for item in data["items"])
    names = {rule["name"] for rule in cascade["rules"]}
    assert {"token_mean_nll", "token_max_nll", "token_q90_nll", "mean_logprob"} <= names
    for rule in [*cascade["rules"], cascade["oracle"], cascade["random"]]:
        assert len(rule["accuracy"]) == 7 and rule["accuracy"][0] == pytest.approx(cascade["small_accuracy"])
        assert rule["accuracy"][-1] == pytest.approx(cascade["large_accuracy"])
    assert f"cascade {small_model} -> {DEFAULT_TEXT_MODEL} on 6 items" in printed and "best rule" in printed
    assert f"Cascade: {small_model} deferring to {DEFAULT_TEXT_MODEL}" in report.read_text()
    assert main(argv) == 0  # both audits resume from the store: the same cascade, nothing computed again
    assert json.loads(out.read_text())["cascade"] == cascade


def test_defer_to_the_same_model_exits_2_before_anything_runs(small_model, capsys):
    assert main(["audit", "--limit", "2", "--model", small_model, "--defer-to", small_model]) == 2
    assert "the audited model itself" in capsys.readouterr().err
