"""The Label issues tab: the ranked table (an 'other classes' column only for image audits), the CSV with every
class probability, the picked issue's bars most likely first, its image, and the refusal."""
from __future__ import annotations

import base64
import io

import pandas as pd
from PIL import Image
from streamlit.testing.v1 import AppTest

from backend.schemas.label_issues import LabelIssue, LabelIssueReport
from components.label_issues_view import issue_scores, issue_title, label_issues_csv, label_issues_frame, \
    thumbnail_bytes


def png_url() -> str:
    buffer = io.BytesIO()
    Image.new("L", (8, 8), 200).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def issue(rank: int, other=None, thumbnail=None) -> LabelIssue:
    return LabelIssue(rank=rank, index=rank * 3, id=f"digit-{rank * 3}", given_label=1, given_name="1",
                      given_prob=0.01 * rank, predicted_label=7, predicted_name="7", predicted_prob=0.9,
                      quality=0.01 * rank, other_mass=other, model_answer="7",
                      probs=[0.0, 0.01 * rank, 0.02, 0.0, 0.0, 0.0, 0.0, 0.9, 0.07 - 0.01 * rank, 0.0],
                      thumbnail=thumbnail)


def report(issues, **changes) -> LabelIssueReport:
    return LabelIssueReport(**{**dict(n_items=540, n_classes=10, class_names=[str(k) for k in range(10)],
                                      issues=issues, method="cleanlab", assumptions=["out-of-sample"]), **changes})


def test_the_table_is_ranked_and_has_other_classes_only_when_some_mass_was_dropped():
    digits = label_issues_frame(report([issue(1), issue(2)]))
    assert list(digits["rank"]) == [1, 2] and list(digits["#"]) == [3, 6] and "other classes" not in digits
    assert list(digits.columns) == ["rank", "#", "id", "given label", "p(given)", "most likely", "p(most likely)",
                                    "label quality", "model's own answer"]
    images = label_issues_frame(report([issue(1, other=0.2)]))
    assert list(images["other classes"]) == [0.2]
    assert list(label_issues_frame(report([])).columns)[:3] == ["rank", "#", "id"]


def test_the_csv_has_every_class_probability():
    frame = pd.read_csv(io.StringIO(label_issues_csv(report([issue(1), issue(2)]))))
    assert list(frame["id"]) == ["digit-3", "digit-6"]
    assert list(frame["p(7)"]) == [0.9, 0.9] and list(frame["p(1)"]) == [0.01, 0.02]


def test_the_bars_show_the_most_likely_classes_first_and_the_image_decodes():
    scores = issue_scores(issue(1), [str(k) for k in range(10)], top=3)
    assert [(s.label, s.index) for s in scores] == [("7", 7), ("8", 8), ("2", 2)]
    assert Image.open(io.BytesIO(thumbnail_bytes(issue(1, thumbnail=png_url())))).size == (8, 8)
    assert thumbnail_bytes(issue(1)) is None
    assert issue_title(issue(2)) == "#2: digit-6, labelled 1 (0.020), most likely 7 (0.900)"


def tab_page(report_json):  # no annotations: AppTest runs the source without this module's imports
    from backend.schemas.audit import AuditResult
    from backend.schemas.label_issues import LabelIssueReport
    from components.label_issues_view import render_label_issues

    result = AuditResult.model_construct(audit_id="0" * 16, label_issues=LabelIssueReport.model_validate_json(
        report_json))
    render_label_issues(result, key="t")


def test_the_tab_draws_table_picker_image_bars_and_download():
    at = AppTest.from_function(tab_page, args=(report([issue(1, thumbnail=png_url()), issue(2)]).model_dump_json(),))
    at.run()
    assert not at.exception
    assert list(at.dataframe[0].value["rank"]) == [1, 2]
    picker = at.selectbox(key="t_label_issue_pick")
    assert picker.value == 1 and len(at.get("image")) == 1 and len(at.get("plotly_chart")) == 1
    picker.set_value(2).run()
    assert not at.exception and not at.get("image")
    assert "No image kept for digit-6" in " ".join(c.value for c in at.caption)
    assert at.get("download_button")[0].label == "Label issues as CSV"


def test_the_tab_says_why_no_issues_were_looked_for():
    refused = report([], refused="only 5 items: audit more items", n_items=5)
    at = AppTest.from_function(tab_page, args=(refused.model_dump_json(),)).run()
    assert not at.exception and at.warning[0].value == "No label issues looked for: only 5 items: audit more items."
