"""The Claims tab of an audit graded claim by claim: a row per labelled claim with its scores, the metrics table,
the reliability diagram of the chosen score and the risk-coverage of all, one item's response shaded claim by
claim."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

from backend.audit.claim_grading import claim_summary
from backend.schemas.audit import AuditItem, AuditRequest, AuditResult, ClaimGrade
from components.claim_audit_view import claims_frame

RESPONSES = [("Paris is big. It is old.", [(True, 0.9, 0.3), (False, 0.2, 2.0)]),
             ("Rome is far. It is new. It is red.", [(True, 0.8, 1.2), (False, 0.6, 0.5), (True, 0.7, 0.4)])]


def items() -> list[AuditItem]:
    made = []
    for index, (answer, labels) in enumerate(RESPONSES):
        pieces = [p.strip() + "." for p in answer.split(".") if p.strip()]
        grades, position = [], 0
        for piece, (correct, ccp, entropy) in zip(pieces, labels):
            start = answer.index(piece, position)
            position = start + len(piece)
            grades.append(ClaimGrade(text=piece, start=start, end=position, correct=correct,
                                     scores={"ccp": ccp, "mean_token_entropy": entropy}))
        made.append(AuditItem(index=index, id=f"r{index}", question=f"q{index}", answers=[], answer=answer,
                              correct=all(g.correct for g in grades), grading="claims", scores={}, claims=grades))
    return made


def result() -> AuditResult:
    graded = items()
    n, accuracy, metrics = claim_summary(graded, seed=0)
    return AuditResult.model_construct(audit_id="0" * 16, request=AuditRequest(), n_bins=10, items=graded,
                                       n_claims=n, claim_accuracy=accuracy, claim_metrics=metrics)


def test_the_claims_frame_has_a_row_per_claim_with_its_label_and_scores():
    frame = claims_frame(result())
    assert list(frame["claim"]) == ["Paris is big.", "It is old.", "Rome is far.", "It is new.", "It is red."]
    assert list(frame["#"]) == [0, 0, 1, 1, 1] and list(frame["correct"]) == [True, False, True, False, True]
    assert list(frame["ccp"]) == [0.9, 0.2, 0.8, 0.6, 0.7]


def tab_page(result_json):  # no annotations: AppTest runs the source without this module's imports
    from backend.schemas.audit import AuditResult
    from components.claim_audit_view import render_claims_audit

    render_claims_audit(AuditResult.model_validate_json(result_json), key="t")


def test_the_tab_draws_the_metrics_figures_claims_and_a_shaded_response():
    full = result()
    payload = AuditResult.model_validate({**full.__dict__, "model_id": "m", "dataset_id": "d", "dataset_sha256": "s",
                                          "n": 2, "accuracy": 0.0, "binning": "b", "metrics": {},
                                          "rank_correlation": {}, "methods": [], "created_at": "now"})
    at = AppTest.from_function(tab_page, args=(payload.model_dump_json(),))
    at.run()
    assert not at.exception
    metrics, claims = at.dataframe[0].value, at.dataframe[1].value
    assert list(metrics["method"]) == ["ccp", "mean_token_entropy"] and len(claims) == 5
    assert len(at.get("plotly_chart")) == 2  # ccp is a probability: its reliability diagram, then risk-coverage
    assert "5 labelled claims, 60.0% right" in at.caption[0].value
    shaded = [m.value for m in at.markdown if "<span" in m.value]
    assert shaded and "Paris is big." in shaded[0] and "It is old." in shaded[0]
    at.selectbox(key="t_claim_item").set_value(full.items[1]).run()
    assert not at.exception and "Rome is far." in [m.value for m in at.markdown if "<span" in m.value][0]
    assert "3. right" in at.caption[-1].value
