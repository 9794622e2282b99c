"""Kernel language entropy and CoCoA as audit methods: listed in the catalog with their registry metadata and scored
on every item of a real text audit through the CLI."""
from __future__ import annotations

import json

import pytest

from backend.audit.methods import audit_method_catalog, resolve_text_methods
from backend.cli import main
from backend.sequence.methods import METHODS


def test_the_audit_offers_kle_and_cocoa_as_the_registry_describes_them():
    entries = {e.name: e for e in audit_method_catalog().methods}
    for name in ("kle", "cocoa"):
        spec, entry = METHODS.get(name), entries[name]
        assert (entry.label, entry.paper, entry.higher_is, entry.cost) == (spec.label, spec.paper, "uncertain",
                                                                           spec.cost)
        assert entry.sequence_method == name and entry.kind == "text" and not entry.is_probability
        assert "score_given_answer" in entry.requires  # the audit's greedy answer is given to the pipeline
    assert [m.name for m in resolve_text_methods(["kle", "cocoa"])] == ["kle", "cocoa"]


@pytest.mark.slow
def test_cli_audit_scores_every_item_with_kle_and_cocoa(tmp_path, monkeypatch, engine):
    monkeypatch.setattr("backend.engine.Engine", lambda: engine)  # the session's loaded models
    out = tmp_path / "out.json"
    assert main(["audit", "--dataset", "builtin-qa", "--methods", "kle,cocoa", "--limit", "2", "--samples", "3",
                 "--max-new-tokens", "8", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert set(data["metrics"]) == {"kle", "cocoa"}
    for item in data["items"]:
        assert item["scores"]["kle"] is not None and item["scores"]["cocoa"] is not None
        assert item["scores"]["cocoa"] >= 0 and item["scores"]["kle"] >= 0
