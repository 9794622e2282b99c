"""The HTML report's answer-or-abstain section: a table per method with the threshold, coverage and error on both
splits, the guarantee and the assumption, the split; a refusal in its place when no threshold can be given."""
from __future__ import annotations

import html

from backend.audit import runner
from backend.audit.report import render_report
from backend.audit.report_selective import decision_rows, selective_section
from backend.audit.store import AuditStore
from backend.schemas.audit import AuditRequest


def test_the_report_states_each_threshold_guarantee_and_split(tmp_path):
    rows = "".join(f"r{i},{int(i >= 40 or i % 2 == 0)},{i / 200:.3f}\n" for i in range(200))  # wrong: odd i < 40
    path = tmp_path / "scores.csv"
    path.write_text("id,correct,p\n" + rows)
    store = AuditStore(f"sqlite:///{tmp_path}/audit.sqlite")
    result = runner.run_audit(AuditRequest(dataset=str(path), methods=["p"], alpha=0.2), None, store)
    decision = result.selective["p"]
    assert decision.refused is None
    page = render_report(result)
    assert "<h2>Answer or abstain</h2>" in page and "<strong>Assumption:</strong> Exchangeable items" in page
    assert f"<td>{html.escape(decision.answer_if)}</td>" in page and html.escape(decision.guarantee) in page
    assert f"Calibration items ({decision.n_calibration}): {', '.join(map(str, decision.calibration_indices))}" in page
    labels = [label for label, _ in decision_rows(decision)]
    assert labels == ["answer when", "threshold (score units)", "calibration", "held-out coverage", "held-out error",
                      "thresholds tested", "guarantee"]
    held_out = dict(decision_rows(decision))["held-out error"]
    assert held_out == f"{decision.held_out_error:.1%} ({decision.held_out_errors} of {decision.held_out_answered} " \
                       f"answers wrong)"


def test_a_refusal_takes_the_table_and_an_empty_result_has_no_section(tmp_path):
    path = tmp_path / "few.csv"
    path.write_text("id,correct,p\n" + "".join(f"r{i},{i % 2},{i / 30:.3f}\n" for i in range(30)))
    store = AuditStore(f"sqlite:///{tmp_path}/audit.sqlite")
    result = runner.run_audit(AuditRequest(dataset=str(path), methods=["p"], alpha=0.05), None, store)
    section = selective_section(result)
    assert "<th>refused</th><td>with 15 calibration items no threshold can be shown" in section
    assert selective_section(result.model_copy(update={"selective": {}})) == ""
