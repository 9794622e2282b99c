"""Batched answers equal the item-by-item analysis; a real text audit through the CLI (JSON and HTML)."""
from __future__ import annotations

import json

import pytest

from backend.audit.batch_text import answer_batch, left_pad
from backend.cli import main
from backend.schemas import TextRequest
from backend.text.generation import analyze_text

QUESTIONS = ["What is the capital of France?", "Who painted Guernica?"]


def test_left_pad_masks_the_padding():
    ids, mask = left_pad([[5, 6, 7], [8]], pad=0, device="cpu")
    assert ids.tolist() == [[5, 6, 7], [0, 0, 8]]
    assert mask.tolist() == [[1, 1, 1], [0, 0, 1]]


@pytest.mark.parametrize("fixture", ["tiny_lm", pytest.param("default_lm", marks=pytest.mark.slow)])
def test_batched_answers_equal_item_by_item_analysis(fixture, request):
    lm = request.getfixturevalue(fixture)
    batched = answer_batch(lm, QUESTIONS, max_new_tokens=6)
    for question, result in zip(QUESTIONS, batched):
        alone = analyze_text(lm, TextRequest(model=lm.spec.id, prompt=question, max_new_tokens=6))
        assert result.answer_ids == alone.ids[alone.answer_start:]
        assert result.answer == alone.generated_text.strip()
        assert result.logprobs == pytest.approx([t.logprob for t in alone.tokens], abs=1e-4)
        assert result.entropies == pytest.approx([t.entropy for t in alone.tokens], abs=1e-4)


@pytest.mark.slow
def test_cli_audit_writes_json_and_html(tmp_path, capsys, monkeypatch, engine):
    monkeypatch.setattr("backend.engine.Engine", lambda: engine)  # the session's loaded models, not a second copy
    out, report = tmp_path / "out.json", tmp_path / "report.html"
    status = main(["audit", "--dataset", "builtin-qa", "--methods", "mean_logprob,semantic_entropy", "--limit", "2",
                   "--samples", "2", "--max-new-tokens", "8", "--json", str(out), "--html", str(report)])
    assert status == 0
    data = json.loads(out.read_text())
    assert data["n"] == 2 and 0 <= data["accuracy"] <= 1 and len(data["items"]) == 2
    assert set(data["metrics"]) == {"mean_logprob", "semantic_entropy"}
    for metrics in data["metrics"].values():
        assert {"ece", "brier", "auroc", "aurc", "prr"} <= set(metrics)
    assert all(item["scores"]["semantic_entropy"] is not None for item in data["items"])
    assert "audit" in capsys.readouterr().err  # the progress bar
    html = report.read_text()
    assert html.startswith("<!DOCTYPE html>") and data["audit_id"] in html and "plotly" in html.lower()
    assert "<script src=" not in html  # self-contained: plotly.js is inlined


def test_cli_bad_input_exits_2(capsys):
    assert main(["audit", "--dataset", "no-such-file.jsonl"]) == 2
    assert "no dataset" in capsys.readouterr().err
    assert main(["audit", "--methods", "not_a_method", "--limit", "2"]) == 2
    assert "unknown audit method" in capsys.readouterr().err
