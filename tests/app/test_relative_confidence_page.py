"""Relative confidence on the Calibration & audits page: offered for questions (from the catalog), not selected
unless chosen, its cost said before the comparisons are asked, and its scores in the audit's results."""
from __future__ import annotations

import pytest

from app.relative_services import cost_note
from backend.schemas.relative_confidence import RelativeConfidenceCost
from tests.app.pages import open_page

RUN = "FormSubmitter:calib_form-Run audit"


def test_the_cost_note_says_passes_and_seconds():
    cost = RelativeConfidenceCost(audit_id="a" * 16, model="m", items=6, comparisons=12, passes=24,
                                  seconds_per_item=0.5, seconds=3.0, note="timed")
    assert cost_note(cost).startswith("Relative confidence: 6 questions still to compare (12 pairs, both orders: "
                                      "24 asking passes of one reply token), about 3 s (timed)")
    assert "nothing is asked" in cost_note(cost.model_copy(update={"items": 0}))


def test_question_audits_offer_relative_confidence_unselected():
    at = open_page("calibration_page.py", timeout_s=120)
    methods = at.multiselect(key="calib_methods_builtin-qa")
    assert "relative_confidence" in methods.options and "relative_confidence" not in methods.value


@pytest.mark.slow
def test_an_audit_with_relative_confidence_says_its_cost_and_ranks_the_items():
    at = open_page("calibration_page.py")
    at.multiselect(key="calib_methods_builtin-qa").set_value(["mean_logprob", "relative_confidence"])
    at.number_input(key="calib_limit_builtin-qa").set_value(4)
    at.number_input(key="calib_max_new_tokens").set_value(6)
    at.button(key=RUN).click().run()
    assert not at.exception and not at.error
    assert any(c.value.startswith("Relative confidence: 4 questions still to compare") for c in at.caption)
    assert at.subheader[0].value.startswith("4 items, accuracy")
