"""`python -m backend text ... --methods ccp luq`: per-claim lines in the table, "claims" in --json, and a claims
file (--claims FILE) with a clear refusal for a claim not in the answer or an empty file."""
from __future__ import annotations

import json

import pytest

from backend import cli
from tests.backend.cli.test_sequence_cli import local_engine  # noqa: F401

pytestmark = pytest.mark.slow
ARGS = ["text", "What is the capital of France? Answer in one sentence.", "--samples", "2", "--max-new-tokens", "16"]


def test_claim_lines_and_the_json_claims(local_engine, capsys):  # noqa: F811
    assert cli.main(ARGS + ["--methods", "ccp", "luq"]) == 0
    out = capsys.readouterr().out
    assert "claims (the answer split into sentences" in out and "ccp " in out and "/2 samples" in out
    assert cli.main(ARGS + ["--methods", "ccp,luq", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    claim = result["claims"][0]
    assert {"text", "start", "end", "token_start", "token_end", "scores", "supported_by"} <= claim.keys()
    assert {"ccp", "luq_support", "mean_token_entropy", "max_token_entropy", "mean_neg_logprob"} <= claim["scores"].keys()
    assert "claims" not in result["sequence"] and [s["name"] for s in result["scores"]] == ["ccp", "luq"]


def test_a_claims_file(local_engine, capsys, tmp_path):  # noqa: F811
    assert cli.main(ARGS + ["--methods", "ccp", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)["claims"][0]["text"]
    file = tmp_path / "claims.txt"
    file.write_text(f"\n{first}\n")
    assert cli.main(ARGS + ["--methods", "ccp", "--json", "--claims", str(file)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [c["text"] for c in result["claims"]] == [first]
    assert result["sequence"]["claims_rule"].startswith("the request's claims")
    file.write_text("Berlin is lovely.\n")
    assert cli.main(ARGS + ["--methods", "ccp", "--claims", str(file)]) != 0
    assert "not found in the answer" in capsys.readouterr().err
    file.write_text("\n \n")
    assert cli.main(ARGS + ["--methods", "ccp", "--claims", str(file)]) != 0
    assert "has no claim" in capsys.readouterr().err
