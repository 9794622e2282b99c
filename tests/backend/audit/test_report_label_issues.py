"""The HTML report's Label issues section: ranked rows with the image and the top classes, everything escaped, only
data: URL images embedded, and the refusal said when no issues were looked for."""
from __future__ import annotations

from backend.audit.report_label_issues import MAX_ROWS, label_issues_section
from backend.schemas.audit import AuditResult
from backend.schemas.label_issues import LabelIssue, LabelIssueReport

PNG = "data:image/png;base64,iVBORw0KGgo="


def issue(rank: int, **changes) -> LabelIssue:
    fields = dict(rank=rank, index=10 + rank, id=f"cat/<b>{rank}</b>.jpg", given_label=0, given_name="cat",
                  given_prob=0.02, predicted_label=1, predicted_name="dog & co", predicted_prob=0.9, quality=0.02,
                  other_mass=0.08, model_answer="tabby", probs=[0.02, 0.9, 0.08], thumbnail=PNG)
    return LabelIssue(**{**fields, **changes})


def section(report) -> str:
    return label_issues_section(AuditResult.model_construct(label_issues=report))


def report_of(issues) -> LabelIssueReport:
    return LabelIssueReport(n_items=50, n_classes=3, class_names=["cat", "dog & co", "fox"], issues=issues,
                            method="cleanlab <x>", assumptions=["out-of-sample"], warnings=["few foxes"])


def test_issues_are_listed_ranked_with_image_and_top_classes_escaped():
    html = section(report_of([issue(1), issue(2, thumbnail='data:image/png;base64,x" onerror="alert(1)')]))
    assert "2 of 50 items have a given label that is likely wrong" in html
    assert f'<img src="{PNG}"' in html and "onerror" not in html
    assert "cat/&lt;b&gt;1&lt;/b&gt;.jpg" in html and "<b>1</b>" not in html
    assert "dog &amp; co (0.900)" in html and "dog &amp; co: 0.900<br>fox: 0.080<br>cat: 0.020" in html
    assert "cleanlab &lt;x&gt;." in html and "<li>out-of-sample</li>" in html and "Caveat: few foxes." in html
    assert html.index("<td>1</td>") < html.index("<td>2</td>")
    assert "<th>other classes</th>" in html and "<td>0.080</td>" in html
    digits = section(report_of([issue(1, other_mass=None)]))
    assert "other classes" not in digits and "<td>tabby</td>" in digits


def test_long_lists_are_cut_and_say_where_the_rest_is():
    html = section(report_of([issue(rank) for rank in range(1, MAX_ROWS + 6)]))
    assert f"The first {MAX_ROWS} are listed; the JSON export has all {MAX_ROWS + 5}." in html
    assert html.count("<tr>") == MAX_ROWS + 1


def test_a_refusal_and_an_empty_list_are_said_and_other_audits_have_no_section():
    refused = LabelIssueReport(n_items=5, refused="only 5 items: audit more items", method="m", assumptions=[])
    assert "Not looked for: only 5 items: audit more items." in section(refused)
    assert "No likely label issue among 50 items." in section(report_of([]))
    assert section(None) == ""
