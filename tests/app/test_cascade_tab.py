"""The Calibration page's Cascade tab glue (app.cascade_services) under AppTest on a stand-in client: the box offers
the other text models, the cascade is read with defer_to set, a missing second audit is refused with a button that
runs the same request for the chosen model through the client, after which the curves show."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from backend.schemas import ModelInfo
from backend.schemas.audit import AuditProgress, AuditRequest, AuditResult
from tests.app.streamlit_caches import fresh_streamlit_caches
from tests.backend.decisions.test_cascade import CascadeSide, cascade, sides

REQUEST = AuditRequest(model="small", methods=["mean_logprob"], limit=5)


class StandInClient:
    """Answers what the tab asks: the models, the audit result (with its cascade) and the second audit's batches."""

    def __init__(self) -> None:
        self.results: list[AuditRequest] = []
        self.started: list[AuditRequest] = []
        self.large_done = False

    def models(self) -> list[ModelInfo]:
        return [ModelInfo(id=i, kind=k, description="", source="hf") for i, k in
                (("small", "text"), ("large", "text"), ("other", "text"), ("efficientnet-lite0", "image"))]

    def audit_result(self, request: AuditRequest) -> AuditResult:
        self.results.append(request)
        small, large = sides()
        answered = CascadeSide(request.defer_to, large.audit_id, large.dataset_sha256,
                               large.items if self.large_done else [])
        return result_of(request, cascade(small, answered, [], "builtin-qa"))

    def start_audit(self, request: AuditRequest) -> AuditProgress:
        self.started.append(request)
        return AuditProgress(audit_id="2" * 16, dataset_id="builtin-qa", total=5, done=0)

    def run_audit_batch(self, request: AuditRequest) -> AuditProgress:
        self.large_done = True
        return AuditProgress(audit_id="2" * 16, dataset_id="builtin-qa", total=5, done=5, computed=5)


def result_of(request: AuditRequest, cascade_result=None) -> AuditResult:
    small, _ = sides()
    return AuditResult(audit_id="1" * 16, request=request, model_id="small", dataset_id="builtin-qa",
                       dataset_sha256="a" * 64, n=5, accuracy=0.6, n_bins=10, binning="", metrics={},
                       rank_correlation={}, methods=[], items=list(small.items), created_at="",
                       cascade=cascade_result)


def tab_script() -> None:
    from app.cascade_services import render_cascade_tab
    from tests.app.test_cascade_tab import REQUEST, result_of

    render_cascade_tab(result_of(REQUEST), "r0")


@pytest.fixture
def client(monkeypatch) -> StandInClient:
    stand_in = StandInClient()
    for module in ("app.services", "app.audit_services", "app.cascade_services"):
        monkeypatch.setattr(f"{module}.get_client", lambda: stand_in)
    with fresh_streamlit_caches():
        yield stand_in


def test_the_tab_runs_the_second_audit_then_draws_the_curves(client):
    at = AppTest.from_function(tab_script).run(timeout=60)
    assert not at.exception and at.selectbox(key="calib_cascade_model").options == ["large", "other"]
    assert not client.results  # nothing read until a model is chosen
    at.selectbox(key="calib_cascade_model").set_value("large").run(timeout=60)
    assert client.results[-1].defer_to == "large" and client.results[-1].model == "small"
    assert "has not answered 5 of the 5 items" in at.info[0].value
    at.button(key="calib_cascade_run").click().run(timeout=60)
    assert not at.exception
    assert [(r.model, r.defer_to, r.limit) for r in client.started] == [("large", None, 5)]
    assert not at.info and len(at.get("plotly_chart")) == 1
    assert [m.label for m in at.metric][:2] == ["small alone", "large alone"]
