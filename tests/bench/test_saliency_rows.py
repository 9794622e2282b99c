"""The saliency benchmarks' shared rows (bench/saliency_rows.py) and the harness's rows set against an earlier
row's peer: relative deltas by hand, the variant rows' requests, the details in the table's notes."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import harness  # noqa: E402  (bench/ must be importable first, as when the scripts run)
import saliency_rows  # noqa: E402
from backend.schemas.text_saliency import TextSaliencyRequest  # noqa: E402


def test_relative_deltas_by_hand():
    assert saliency_rows.relative_deltas([1.5, -2.0, 1.0], [1.0, -4.0, 0.0]) == [0.5, 0.5, float("inf")]
    assert saliency_rows.delta_text(8, [0.5, 0.1, 2.0]) == "8 steps, relative delta median 0.5, max 2"


def test_variant_rows_vary_the_budget_and_the_steps_and_point_at_the_peers_row():
    request = TextSaliencyRequest(ids=[1, 2, 3], answer_start=1, method="integrated_gradients",
                                  parameters={"steps": 8, "baseline": "all_pad"})
    base = harness.Comparison("integrated_gradients matrix (8 steps)", "inseq", lambda: None, lambda: None)
    ran = []
    rows = saliency_rows.variant_rows(base, request, ran.append, [256, 64], [4])
    assert [r.operation for r in rows] == ["integrated_gradients matrix @ 256 MiB",
                                           "integrated_gradients matrix @ 64 MiB",
                                           "integrated_gradients matrix (4 steps)"]
    assert all(r.peer is None and r.same_peer_as == base.operation for r in rows)
    for row in rows:
        row.uqlens()
    assert [(r.memory_budget_mib, r.parameters["steps"]) for r in ran] == [(256, 8), (64, 8), (None, 4)]
    gradient = request.model_copy(update={"method": "input_x_gradient", "parameters": {}})
    assert len(saliency_rows.variant_rows(base, gradient, ran.append, [64], [4])) == 1


def test_a_row_set_against_an_earlier_peer_takes_its_time_and_memory():
    earlier = harness.Result("op", "peer", 2.0, 6.0, 3.0, uqlens_mib=100.0, peer_mib=50.0, memory_ratio=0.5)
    later = harness.Result("op @ 64 MiB", "peer", 3.0, None, None, uqlens_mib=25.0)
    set_against = harness.set_against(later, earlier)
    assert (set_against.peer_s, set_against.time_ratio, set_against.peer_mib, set_against.memory_ratio) == \
        (6.0, 2.0, 50.0, 2.0)


def test_details_are_added_to_the_note():
    results = [harness.Result("op", "peer", 1.0, 2.0, 2.0, note="same path",
                              details={"UQ Lens": "4 steps", "peer": "8 steps"})]
    assert "[1] same path; UQ Lens: 4 steps; peer: 8 steps" in harness.table(results)


def test_the_saliency_options_parse():
    args = harness.parser("doc").parse_args(["--memory-budget-mib", "1024", "64", "--ig-uq-steps", "4"])
    assert (args.memory_budget_mib, args.ig_uq_steps) == ([1024, 64], [4])
    assert harness.parser("doc").parse_args([]).memory_budget_mib == []


@pytest.mark.parametrize("steps", [4, 8])
def test_uqlens_deltas_read_the_rows(steps):
    class Row:
        def __init__(self, value, baseline, delta):
            self.target_value, self.baseline_value, self.convergence_delta = value, baseline, delta

    class Output:
        rows = [Row(-1.0, -3.0, 0.5), Row(-2.0, -1.0, -0.25)]
        parameters = {"steps": steps}
    assert saliency_rows.uqlens_deltas(Output()) == [0.25, 0.25]
    assert saliency_rows.ig_details(lambda uq, peer: [1.0], steps)(Output(), None) == {
        "UQ Lens": f"{steps} steps, relative delta median 0.25, max 0.25"}
