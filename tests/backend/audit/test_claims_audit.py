"""ccp and luq as audit methods: listed in the catalog with their registry metadata and scored on every item of a
real text audit through the CLI (the answer-level values; per-claim grading: test_claim_grading.py)."""
from __future__ import annotations

import json

import pytest

from backend.audit.methods import audit_method_catalog, resolve_text_methods
from backend.cli import main
from backend.sequence.methods import METHODS


def test_the_audit_offers_ccp_and_luq_as_the_registry_describes_them():
    entries = {e.name: e for e in audit_method_catalog().methods}
    for name, higher in (("ccp", "confident"), ("luq", "uncertain")):
        spec, entry = METHODS.get(name), entries[name]
        assert (entry.label, entry.paper, entry.higher_is, entry.cost) == (spec.label, spec.paper, higher, spec.cost)
        assert entry.sequence_method == name and entry.kind == "text" and not entry.is_probability
    assert [m.name for m in resolve_text_methods(["ccp", "luq"])] == ["ccp", "luq"]


@pytest.mark.slow
def test_cli_audit_scores_every_item_with_ccp_and_luq(tmp_path, monkeypatch, engine):
    monkeypatch.setattr("backend.engine.Engine", lambda: engine)
    out = tmp_path / "out.json"
    assert main(["audit", "--dataset", "builtin-qa", "--methods", "ccp,luq", "--limit", "2", "--samples", "2",
                 "--max-new-tokens", "8", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert set(data["metrics"]) == {"ccp", "luq"}
    for item in data["items"]:
        assert 0 <= item["scores"]["ccp"] <= 1 and 0 <= item["scores"]["luq"] <= 1
