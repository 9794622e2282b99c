"""The cascade's figure and table on a hand-made 5-item cascade, and the Cascade tab under Streamlit's AppTest:
the curves of the chosen rules, a refusal with the button that runs the second audit, no second model."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from backend.audit.report_cascade import cascade_figure, cascade_rows
from tests.backend.decisions.test_cascade import cascade, sides


@pytest.fixture
def result():
    return cascade(*sides(), [], "builtin-qa")


def test_the_figure_draws_each_rule_the_oracle_and_random_with_the_cost_saved(result):
    figure = cascade_figure(result)
    names = [t.name for t in figure.data if t.showlegend is not False]
    assert len(names) == len(result.rules) + 2
    assert names[-2:] == ["oracle (area 0.900)", "random (area 0.700)"]
    oracle = figure.data[len(result.rules)]
    assert list(oracle.y) == pytest.approx([0.6, 0.8, 1.0, 1.0, 1.0, 0.8]) and list(oracle.customdata) == \
        pytest.approx([1.0, 0.8, 0.6, 0.4, 0.2, 0.0])
    assert oracle.line.dash == "dash" and figure.layout.xaxis2.ticktext[1] == "80%"
    only = cascade_figure(result, ["token_mean_nll"])
    assert [t.name for t in only.data][:1] == ["token_mean_nll (area 0.820)"]


def test_the_table_has_a_row_per_rule_and_the_references(result):
    rows = cascade_rows(result)
    assert [r["rule"] for r in rows][-2:] == ["oracle", "random"] and len(rows) == len(result.rules) + 2
    mean = next(r for r in rows if r["rule"] == "token_mean_nll")
    assert mean["accuracy at 50%"] == pytest.approx(0.9) and mean["matches large at"] == pytest.approx(0.2)
    assert mean["cost saved there"] == pytest.approx(0.8) and mean["share of oracle gain"] == pytest.approx(0.6)


def tab_script(case: str) -> None:
    import streamlit as st

    from components.cascade_view import render_cascade
    from tests.backend.decisions.test_cascade import cascade, sides

    small, large = sides()
    if case == "missing":
        large = type(large)(large.model, large.audit_id, large.dataset_sha256, [])
    models = [] if case == "none" else ["large"]
    render_cascade(key="t", models=models, read=lambda model: cascade(small, large, [], "builtin-qa"),
                   run=lambda model: st.session_state.update({"ran": model}))


@pytest.mark.parametrize("case", ["curves", "missing", "none"])
def test_the_cascade_tab(case):
    at = AppTest.from_function(tab_script, args=(case,)).run(timeout=60)
    assert not at.exception
    if case != "none":
        assert not at.info and not at.metric  # nothing read until a model is chosen
        at.selectbox(key="t_model").set_value("large").run(timeout=60)
    if case == "curves":
        assert [m.label for m in at.metric][:2] == ["small alone", "large alone"]
        assert at.multiselect(key="t_rules").value == ["token_sum_nll", "token_max_nll", "token_q90_nll"]
        assert len(at.get("plotly_chart")) == 1 and len(at.dataframe) == 1
    elif case == "missing":
        assert "has not answered 5 of the 5 items" in at.info[0].value
        at.button(key="t_run").click().run(timeout=60)
        assert at.session_state["ran"] == "large"
    else:
        assert "no second model of this kind is registered" in at.info[0].value
