"""rauq and uqac as audit methods and in the CLI's --methods: listed with their registry metadata, greyed out for
served models with the reason, and scored through the CLI on the real default model."""
from __future__ import annotations

import json

import pytest

import backend.clients.local
from backend.audit.methods import audit_method_catalog, cannot_run, resolve_text_methods
from backend.cli import main
from backend.sequence.methods import METHODS


def test_the_audit_offers_rauq_and_uqac_as_the_registry_describes_them():
    entries = {e.name: e for e in audit_method_catalog().methods}
    for name, higher in (("rauq", "uncertain"), ("uqac", "confident")):
        spec, entry = METHODS.get(name), entries[name]
        assert (entry.label, entry.paper, entry.higher_is, entry.cost) == (spec.label, spec.paper, higher, spec.cost)
        assert entry.sequence_method == name and entry.kind == "text"
    methods = resolve_text_methods(["rauq", "uqac"])
    assert [m.name for m in methods] == ["rauq", "uqac"]
    assert "attention weights" in cannot_run(methods[0], ["token_logprobs", "score_given_answer"])
    assert cannot_run(methods[0], ["token_logprobs", "score_given_answer", "attention"]) == ""


@pytest.mark.slow
def test_cli_audit_and_text_methods_rauq_uqac(tmp_path, monkeypatch, engine, capsys):
    monkeypatch.setattr("backend.engine.Engine", lambda: engine)
    out = tmp_path / "out.json"
    assert main(["audit", "--dataset", "builtin-qa", "--methods", "rauq,uqac", "--limit", "2",
                 "--max-new-tokens", "8", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert set(data["metrics"]) == {"rauq", "uqac"}
    for item in data["items"]:
        assert item["scores"]["rauq"] >= 1 and 0 <= item["scores"]["uqac"] <= 1
    real = backend.clients.local.LocalClient
    monkeypatch.setattr(backend.clients.local, "LocalClient", lambda: real(engine))
    capsys.readouterr()  # the audit's own output
    assert main(["text", "What is 2+2?", "--methods", "rauq", "uqac", "--max-new-tokens", "6", "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)["scores"]
    assert [s["name"] for s in scores] == ["rauq", "uqac"] and all(s["value"] is not None for s in scores)
