"""python -m backend audit-compare: the table, the JSON's stable keys, --list, and refusals with exit 2."""
from __future__ import annotations

import json

from backend.audit.runner import run_audit
from backend.audit.store import AuditStore
from backend.cli import main
from backend.schemas.audit import AuditRequest
from tests.backend.audit.test_compare_run import write_scores

KEYS = {"dataset_id", "a", "b", "paired_items", "only_a", "only_b", "unscored", "n_boot", "seed", "level", "binning",
        "metrics", "reliability", "risk_coverage", "notes"}
METRIC_KEYS = {"name", "label", "better", "a", "b", "difference", "ci_low", "ci_high", "p_boot", "excludes_zero",
               "undefined"}


def test_the_command_prints_the_table_and_writes_json_with_stable_keys(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path}/audits.sqlite"
    monkeypatch.setenv("UQLENS_DATABASE_URL", url)
    data = write_scores(tmp_path / "scores.csv")
    audit = run_audit(AuditRequest(dataset=data, methods=["p", "u_entropy"]), None, AuditStore(url))
    out = tmp_path / "cmp.json"
    assert main(["audit-compare", audit.audit_id, audit.audit_id, "--method-a", "p", "--method-b", "u_entropy",
                 "--n-boot", "200", "--seed", "3", "--json", str(out)]) == 0
    table = capsys.readouterr().out
    assert "A: (precomputed) · p" in table and "50 paired items of scores.csv" in table and "AUROC" in table
    result = json.loads(out.read_text())
    assert KEYS <= result.keys() and result["paired_items"] == 50 and result["seed"] == 3
    assert [m["name"] for m in result["metrics"]][:3] == ["accuracy", "ece", "mce"]
    assert all(METRIC_KEYS <= m.keys() for m in result["metrics"])
    assert set(result["reliability"]) == {"a", "b"} and set(result["risk_coverage"]) == {"a", "b"}
    assert len(result["risk_coverage"]["b"]["coverage"]) == 50
    assert main(["audit-compare", audit.audit_id, audit.audit_id, "--method-b", "u_entropy", "--n-boot", "200",
                 "--json", "-"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["b"]["method"] == "u_entropy" and "AUROC" in captured.err
    assert main(["audit-compare", "--list"]) == 0
    assert audit.audit_id in capsys.readouterr().out


def test_refusals_exit_2_with_what_to_change(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("UQLENS_DATABASE_URL", f"sqlite:///{tmp_path}/audits.sqlite")
    assert main(["audit-compare", "a" * 16]) == 2
    assert "give two audit ids" in capsys.readouterr().err
    assert main(["audit-compare", "a" * 16, "b" * 16]) == 2
    assert "no audit aaaaaaaaaaaaaaaa is kept" in capsys.readouterr().err
    assert main(["audit-compare", "a" * 16, "a" * 16]) == 2
    assert "same audit" in capsys.readouterr().err
