"""The Calibration page's "Compare two audits" tab under AppTest, on the in-process client with a store of its own
(two audits of a scores file, no model): the boxes start on the shown audit and the other one, Compare draws both
figures and the differences table, the same audit with two methods compares too, and a saved comparison reopens
on the Saved page."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from backend.audit.runner import run_audit
from backend.audit.store import AuditStore
from backend.clients.local import LocalClient
from backend.schemas.audit import AuditRequest
from backend.store.repository import Store
from tests.app.streamlit_caches import fresh_streamlit_caches
from tests.backend.audit.test_compare_run import write_scores


@pytest.fixture
def audits(monkeypatch, tmp_path):
    """(the client, the shown audit's result, the other audit's id)."""
    store = AuditStore(f"sqlite:///{tmp_path}/audits.sqlite")
    client = LocalClient(audit_store=store, store=Store(f"sqlite:///{tmp_path}/saved.sqlite"))
    data = write_scores(tmp_path / "scores.csv", n=60, seed=5)
    other = run_audit(AuditRequest(dataset=data, methods=["u_entropy"]), None, store)
    shown = run_audit(AuditRequest(dataset=data, methods=["p", "u_entropy"]), None, store)
    import app.audit_compare_tab  # noqa: F401  imported first, so no module binds the stand-in at its import

    for module in ("app.services", "app.audit_services", "app.audit_compare_tab"):
        monkeypatch.setattr(f"{module}.get_client", lambda: client)
    with fresh_streamlit_caches():
        yield client, shown, other.audit_id


def tab_script(result_json: str) -> None:
    from app.audit_compare_tab import render_compare_tab
    from backend.schemas.audit import AuditResult

    render_compare_tab(AuditResult.model_validate_json(result_json), "r0")


def test_compare_draws_both_figures_and_the_table_then_saves(audits):
    client, shown, other = audits
    at = AppTest.from_function(tab_script, args=(shown.model_dump_json(),)).run(timeout=60)
    assert not at.exception
    assert at.selectbox(key=f"calib_cmp_audit_A_{shown.audit_id}").value == shown.audit_id
    assert at.selectbox(key=f"calib_cmp_audit_B_{shown.audit_id}").value == other
    assert "(shown above)" in at.selectbox(key=f"calib_cmp_audit_A_{shown.audit_id}").format_func(shown.audit_id)
    at.number_input(key="calib_cmp_n_boot").set_value(200)
    at.button(key="FormSubmitter:calib_cmp_form-Compare").click().run(timeout=60)
    assert not at.exception and not at.error
    assert len(at.get("plotly_chart")) == 2
    table = at.dataframe[0].value
    assert list(table["metric"])[:2] == ["accuracy", "ECE"] and "CI excludes 0" in table.columns
    assert any("60 paired items of scores.csv" in c.value and "200 paired resamples" in c.value for c in at.caption)
    next(w for w in at.text_input if w.label == "Title").set_value("p vs u_entropy")
    next(b for b in at.button if b.label == "Save").click().run(timeout=60)
    assert not at.exception and any("Saved as" in s.value for s in at.success)
    saved = client.list_saved(kind="audit_comparison")
    assert [s.title for s in saved] == ["p vs u_entropy"]
    reopened = AppTest.from_function(saved_script, args=(client.get_saved(saved[0].id).model_dump_json(),)).run(
        timeout=60)
    assert not reopened.exception and not reopened.error and len(reopened.get("plotly_chart")) == 2
    assert list(reopened.dataframe[0].value["metric"])[:2] == ["accuracy", "ECE"]


def saved_script(item_json: str) -> None:
    from backend.schemas.store import SavedItem
    from components.saved_views import render_saved

    render_saved(SavedItem.model_validate_json(item_json), key="saved_view")


def test_the_same_audit_with_two_methods(audits):
    _client, shown, _other = audits
    at = AppTest.from_function(tab_script, args=(shown.model_dump_json(),)).run(timeout=60)
    at.selectbox(key=f"calib_cmp_audit_B_{shown.audit_id}").set_value(shown.audit_id).run(timeout=60)
    assert at.selectbox(key=f"calib_cmp_method_B_{shown.audit_id}").value == "u_entropy"  # not A's method
    at.number_input(key="calib_cmp_n_boot").set_value(100)
    at.button(key="FormSubmitter:calib_cmp_form-Compare").click().run(timeout=60)
    assert not at.exception and not at.error
    assert any("both sides are one audit" in c.value.lower() for c in at.caption)
    at.selectbox(key=f"calib_cmp_method_B_{shown.audit_id}").set_value("p")
    at.button(key="FormSubmitter:calib_cmp_form-Compare").click().run(timeout=60)
    assert "same method of the same audit" in at.error[0].value


def test_two_saved_comparisons_compare_on_the_saved_page(audits):
    from backend.audit.comparison import compare_sides
    from backend.schemas.audit_compare import AuditComparisonRequest
    from tests.backend.audit.test_comparison import A_ID, B_ID, TINY_A, TINY_B, side

    result = compare_sides(side(A_ID, TINY_A), side(B_ID, TINY_B), AuditComparisonRequest(audit_a=A_ID, audit_b=B_ID,
                                                                                          n_boot=100))

    def script(payload_json: str) -> None:
        from backend.schemas.audit_compare import AuditComparison
        from components.saved_compare import render_comparison

        payload = AuditComparison.model_validate_json(payload_json)
        render_comparison(["one", "two"], [payload, payload], key="cmp")

    at = AppTest.from_function(script, args=(result.model_dump_json(),)).run(timeout=60)
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["quantity"])[:2] == ["paired items", "accuracy: B − A"]
    assert any("4 paired" in m.value for m in at.markdown)
