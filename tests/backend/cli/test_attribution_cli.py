"""`text --attention --saliency METHOD --json`: the printed object gains "attention" and "saliency"."""
from __future__ import annotations

import argparse
import json

import pytest

import backend.clients.local
from backend import cli
from backend.cli.attribution_options import saliency_request
from backend.schemas import TextAnalysis


def args(**given) -> argparse.Namespace:
    defaults = dict(saliency=None, target="logprob", ig_steps=None, baseline=None, ablate=None,
                    normalisation="max_abs", attention=False)
    return argparse.Namespace(**{**defaults, **given})


def analysis() -> TextAnalysis:
    return TextAnalysis(model="m", prompt="p", model_input="p", chat_template=False, mode="score", generated_text="a",
                        stop_reason="scored", temperature=0.7, do_sample=False, top_p=1.0, seed=0, max_new_tokens=1,
                        device="cpu", ids=[1, 2, 3], answer_start=2, tokens=[], prompt_tokens=[], summaries=[],
                        seconds=0.0)


def test_saliency_options_become_a_request_for_the_analysed_ids():
    assert saliency_request(args(), analysis()) is None
    request = saliency_request(args(saliency="integrated_gradients", target="entropy", ig_steps=8,
                                    baseline="content_zero", normalisation="l1"), analysis())
    assert (request.ids, request.answer_start, request.temperature) == ([1, 2, 3], 2, 0.7)
    assert request.parameters == {"steps": 8, "baseline": "content_zero"}
    assert (request.method, request.target, request.normalisation) == ("integrated_gradients", "entropy", "l1")
    occlusion = saliency_request(args(saliency="occlusion", ablate="prompt_and_answer"), analysis())
    assert occlusion.parameters == {"ablate": "prompt_and_answer"}


@pytest.fixture
def local_engine(monkeypatch, engine):
    """Make the CLI's LocalClient use the session engine instead of loading the model again."""
    real = backend.clients.local.LocalClient
    monkeypatch.setattr(backend.clients.local, "LocalClient", lambda: real(engine))
    return engine


@pytest.mark.slow
def test_json_has_attention_and_saliency_keys(local_engine, capsys):
    status = cli.main(["text", "What is the capital of France?", "--answer", "Paris.", "--attention",
                       "--saliency", "input_x_gradient", "--target", "entropy", "--json"])
    assert status == 0
    printed = json.loads(capsys.readouterr().out)
    answer = range(printed["answer_start"], len(printed["ids"]))
    attention = printed["attention"]
    assert {"rollout", "last_layer_head_mean", "tokens", "n_layers", "n_heads", "rows"} <= attention.keys()
    assert [len(r) for r in attention["rollout"]] == list(answer)
    assert [sum(r) for r in attention["last_layer_head_mean"]] == pytest.approx([1.0] * len(answer), abs=1e-5)
    saliency = printed["saliency"]
    assert (saliency["method"], saliency["target"], saliency["normalisation"]) == ("input_x_gradient", "entropy",
                                                                                    "max_abs")
    assert saliency["normalisation_description"]
    assert [row["position"] for row in saliency["rows"]] == list(answer)
    assert all(len(row["scores"]) == row["position"] for row in saliency["rows"])
    assert [row["target_value"] for row in saliency["rows"]] == pytest.approx(
        [t["entropy"] for t in printed["tokens"]], abs=1e-4)


@pytest.mark.slow
def test_an_unknown_method_exits_2_naming_the_methods(local_engine, capsys):
    assert cli.main(["text", "Hi", "--answer", "Hello.", "--saliency", "lime"]) == 2
    assert "gradient_norm, input_x_gradient" in capsys.readouterr().err
