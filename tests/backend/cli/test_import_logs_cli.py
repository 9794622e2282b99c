"""`python -m backend import-logs FILE`: the table, --json, --methods, and refusals naming the line and field."""
from __future__ import annotations

import json
import math

import pytest

from backend.cli import main
from backend.schemas.imports import ImportResult
from tests.backend.imports.logs import chat_response, jsonl

LN = math.log
PARIS = [("Par", LN(0.75), [("Par", LN(0.75)), ("Lon", LN(0.25))]),
         ("is", LN(0.5), [("is", LN(0.5)), ("is.", LN(0.3)), ("!", LN(0.2))])]


@pytest.fixture
def log_file(tmp_path):
    path = tmp_path / "answers.jsonl"
    path.write_text(jsonl({**chat_response(PARIS), "prompt": "Capital of France?", "reference": "Paris"},
                          {**chat_response(PARIS), "prompt": "Capital of France?"}))
    return path


def test_json_output_is_an_import_result(log_file, capsys):
    assert main(["import-logs", str(log_file), "--json", "--vocab-size", "3",
                 "--methods", "sequence_probability,predictive_entropy"]) == 0
    result = ImportResult.model_validate(json.loads(capsys.readouterr().out))
    (group,) = result.groups
    assert result.name == "answers.jsonl" and group.sources == ["line 1, choices[0]", "line 2, choices[0]"]
    assert {s.name: s.value for s in group.analysis.scores} == pytest.approx(
        {"sequence_probability": 0.375, "predictive_entropy": -LN(0.375)})
    assert group.correct is True and result.audit.graded == 1


def test_the_table_lists_tokens_scores_and_the_verdict(log_file, capsys):
    assert main(["import-logs", str(log_file), "--vocab-size", "3"]) == 0
    out = capsys.readouterr().out
    assert "'Par'" in out and "0.750" in out and "Sequence probability: 0.3750" in out
    assert "reference: Paris -> right" in out and "audit: 1 of 1 right" in out


def test_refusals_name_the_line_and_field_and_exit_2(tmp_path, capsys):
    broken = chat_response(PARIS)
    broken["choices"][0]["logprobs"]["content"][1]["logprob"] = "high"
    path = tmp_path / "broken.jsonl"
    path.write_text(jsonl(chat_response(PARIS), broken))
    assert main(["import-logs", str(path)]) == 2
    assert ("error: line 2: choices[0].logprobs.content[1].logprob: must be a number, got a string"
            in capsys.readouterr().err)
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"a": 1}\n{"b": "caf\xe9"}\n')
    assert main(["import-logs", str(latin)]) == 2
    assert "line 2: byte 0xe9 is not UTF-8" in capsys.readouterr().err
    assert main(["import-logs", str(tmp_path / "absent.json")]) == 2
    assert "no such file" in capsys.readouterr().err
