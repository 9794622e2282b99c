"""The HTML report: every metric with its bootstrap interval or why it is undefined, and the caveats."""
from __future__ import annotations

from backend.audit import runner
from backend.audit.report import render_report
from backend.audit.store import AuditStore
from backend.schemas.audit import AuditRequest


def test_report_shows_intervals_reasons_and_caveats(tmp_path):
    path = tmp_path / "scores.csv"
    path.write_text("id,correct,p\n" + "".join(f"r{i},{int(i % 4 != 0)},{0.5 + i / 50:.3f}\n" for i in range(24)))
    store = AuditStore(f"sqlite:///{tmp_path}/audit.sqlite")
    result = runner.run_audit(AuditRequest(dataset=str(path), methods=["p"]), None, store)
    page = render_report(result)
    low, high = result.metrics["p"].ci["ece"]
    assert f"[{low:.4f}, {high:.4f}]" in page
    assert "<li>p: only 24 items: below 100" in page
    everything_right = tmp_path / "right.csv"
    everything_right.write_text("id,correct,p\n" + "".join(f"r{i},1,0.9\n" for i in range(6)))
    right = runner.run_audit(AuditRequest(dataset=str(everything_right), methods=["p"]), None, store)
    assert "<small>every item is right: there are no right and wrong answers to tell apart</small>" in \
        render_report(right)
