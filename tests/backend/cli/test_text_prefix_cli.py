"""`text --prefix`: the answer continues from a forced beginning; each JSON token carries `forced` (true for the
prefix's tokens), the table marks them, and a prefix with --answer exits 2 saying why."""
from __future__ import annotations

import json

import pytest

from backend import cli
from backend.cli.text import format_table
from backend.schemas import TextAnalysis
from tests.backend.cli.test_text_cli import local_engine  # noqa: F401  (the fixture)

pytestmark = pytest.mark.slow
PROMPT = "What is the capital of France?"


def test_prefix_tokens_are_forced_in_the_json(local_engine, capsys):  # noqa: F811
    assert cli.main(["text", PROMPT, "--prefix", "The capital is Lyon", "--max-new-tokens", "3", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    forced = local_engine.text_model(result["model"]).tokenizer("The capital is Lyon", add_special_tokens=False)
    count = len(forced["input_ids"])
    assert [t["id"] for t in result["tokens"][:count]] == forced["input_ids"]
    assert [t["forced"] for t in result["tokens"]] == [True] * count + [False] * (len(result["tokens"]) - count)
    assert 0 < len(result["tokens"]) - count <= 3
    assert result["generated_text"].startswith("The capital is Lyon")
    table = format_table(TextAnalysis.model_validate(result))
    assert table.count("(forced)") == count


def test_without_prefix_no_token_is_forced(local_engine, capsys):  # noqa: F811
    assert cli.main(["text", PROMPT, "--max-new-tokens", "2", "--json"]) == 0
    assert not any(t["forced"] for t in json.loads(capsys.readouterr().out)["tokens"])


def test_a_prefix_with_an_answer_exits_2_saying_why(local_engine, capsys):  # noqa: F811
    assert cli.main(["text", PROMPT, "--prefix", "Paris", "--answer", "Paris."]) == 2
    assert "at most one of answer" in capsys.readouterr().err
