"""`python -m backend text ... --methods ... --json` adds "scores" (and "sequence") to the printed object."""
from __future__ import annotations

import json

import pytest

import backend.clients.local
from backend import cli
from backend.sequence.methods import METHODS

pytestmark = pytest.mark.slow
SCORE_KEYS = {"name", "value", "normalized", "higher_is", "details"}


@pytest.fixture
def local_engine(monkeypatch, engine):
    """Make the CLI's LocalClient use the session engine instead of loading the models again."""
    real = backend.clients.local.LocalClient
    monkeypatch.setattr(backend.clients.local, "LocalClient", lambda: real(engine))
    return engine


def test_methods_all_adds_one_score_per_method(local_engine, capsys):
    args = ["text", "What is 2+2?", "--methods", "all", "--samples", "2", "--seed", "0", "--max-new-tokens", "4",
            "--json"]
    assert cli.main(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"model", "tokens", "summaries", "scores", "sequence"} <= result.keys()
    assert len(result["scores"]) == len(METHODS.available())
    for score in result["scores"]:
        assert SCORE_KEYS <= score.keys()
        assert score["higher_is"] in {"uncertain", "confident"}
    assert len(result["sequence"]["samples"]) == 2


def test_a_method_list_and_the_table_output(local_engine, capsys):
    args = ["text", "What is 2+2?", "--methods", "perplexity,semantic_entropy", "--samples", "2",
            "--max-new-tokens", "2"]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "2 samples at temperature 0.7; meaning by embedding model minilm-l6" in out
    assert "Semantic entropy" in out and "Perplexity" in out and "more uncertain" in out


def test_unknown_method_exits_2_naming_the_methods(local_engine, capsys):
    assert cli.main(["text", "Hi", "--methods", "entropyy"]) == 2
    err = capsys.readouterr().err
    assert "unknown method 'entropyy'" in err and "semantic_entropy" in err


def test_too_few_samples_exit_2(local_engine, capsys):
    assert cli.main(["text", "Hi", "--methods", "eigv", "--samples", "1"]) == 2
    assert "samples" in capsys.readouterr().err


def test_kle_and_cocoa_by_space_or_comma_give_their_evidence(local_engine, capsys):
    outputs = []
    for methods in (["kle", "cocoa"], ["kle,cocoa"]):
        args = ["text", "What is 2+2?", "--methods", *methods, "--samples", "3", "--max-new-tokens", "4", "--json"]
        assert cli.main(args) == 0
        outputs.append(json.loads(capsys.readouterr().out))
    assert outputs[0]["scores"] == outputs[1]["scores"]
    kle, cocoa = outputs[0]["scores"]
    assert (kle["name"], cocoa["name"]) == ("kle", "cocoa")
    assert len(kle["details"]["kernel"]) == 3 and len(cocoa["details"]["answer_similarity"]) == 3
    assert outputs[0]["sequence"]["seconds"]["answer_meaning"] >= 0
