"""A peer in its own venv (bench/peer_protocol.py, bench/external_rows.py): JSON-safe values, the worker's replies,
a real worker process driven over its pipe (this Python stands in for the peer's venv), and the interleaved
measuring of a row whose peer times itself. No peer package is needed."""
from __future__ import annotations

import importlib
import math
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture()
def bench_modules(monkeypatch):
    """The bench's modules as their scripts import them (by their bare names, bench/ on sys.path)."""
    monkeypatch.syspath_prepend(str(BENCH))
    return importlib.import_module("peer_protocol"), importlib.import_module("external_rows")


def test_jsonable_turns_arrays_and_non_finite_floats_into_json(bench_modules):
    protocol, _ = bench_modules
    assert protocol.jsonable({"a": np.array([1.5, 2.0]), "b": (np.float64(3.0), math.inf)}) == \
        {"a": [1.5, 2.0], "b": [3.0, None]}
    assert protocol.jsonable(float("nan")) is None


def test_answer_times_known_operations_and_reports_errors(bench_modules):
    protocol, _ = bench_modules
    operations = {"two": lambda: np.float64(2.0), "fails": lambda: 1 / 0}
    reply = protocol.answer({"run": "two"}, operations)
    assert reply["value"] == 2.0 and reply["seconds"] >= 0
    assert "ZeroDivisionError" in protocol.answer({"run": "fails"}, operations)["error"]
    assert "no operation 'three'" in protocol.answer({"run": "three"}, operations)["error"]
    assert protocol.answer({"quit": True}, operations) is None


def test_a_worker_process_answers_over_its_pipe(bench_modules, tmp_path):
    protocol, _ = bench_modules
    worker = tmp_path / "worker.py"
    worker.write_text(f"import sys\nsys.path.insert(0, {str(BENCH)!r})\nfrom peer_protocol import serve\n"
                      "def build(ev):\n"
                      "    print('the peer prints while it loads')  # to standard error, not the protocol\n"
                      "    return {'sum': lambda: print('and while it runs') or sum(ev['numbers'])}, {}, '1.0'\n"
                      "serve(build)\n")
    evidence = tmp_path / "evidence.json"
    evidence.write_text('{"numbers": [1, 2, 3.5]}')
    peer = protocol.PeerProcess(Path(sys.executable), worker, evidence)
    try:
        assert peer.hello == {"ready": True, "version": "1.0", "unavailable": {}}
        assert peer.run("sum")["value"] == 6.5
        with pytest.raises(RuntimeError, match="no operation"):
            peer.run("product")
    finally:
        peer.close()
    assert peer.process.returncode == 0


def test_missing_venv_says_which_make_target_builds_it(bench_modules, tmp_path):
    protocol, _ = bench_modules
    assert "make uqlm-venv" in protocol.missing_venv(tmp_path / "nope" / "python", "uqlm-venv")
    assert protocol.missing_venv(Path(sys.executable), "uqlm-venv") == ""


class FakePeer:
    """A worker that reports the given seconds and value, or fails."""

    def __init__(self, seconds, value, error=""):
        self.seconds, self.value, self.error, self.calls = iter(seconds), value, error, 0

    def run(self, operation):
        self.calls += 1
        if self.error:
            raise RuntimeError(f"{operation}: {self.error}")
        return {"seconds": next(self.seconds), "value": self.value}


def test_measure_external_takes_the_peer_median_after_a_warm_up_and_compares(bench_modules):
    _, rows = bench_modules
    row = rows.External("op", "peer", lambda: 1.25, "op", lambda ours, theirs: rows.close_values([ours], [theirs]),
                        repeats=3)
    # warm-up 9.0 s is dropped; median of 1, 3, 2
    peer = FakePeer([9.0, 1.0, 3.0, 2.0], 1.0)
    result = rows.measure_external(row, peer, "cpu", repeats=5)
    assert peer.calls == 4
    assert result.peer_s == 2.0 and result.uqlens_s < 1.0
    assert result.time_ratio == pytest.approx(2.0 / result.uqlens_s)
    assert result.max_abs_difference == pytest.approx(0.25) and result.max_abs_value == pytest.approx(1.25)


def test_measure_external_marks_a_failing_peer_unavailable(bench_modules):
    _, rows = bench_modules
    row = rows.External("op", "peer", lambda: 1.0, "op", lambda ours, theirs: rows.close_values([ours], [theirs]))
    result = rows.measure_external(row, FakePeer([], None, error="boom"), "cpu", repeats=2)
    assert result.peer_s is None and result.max_abs_difference is None and "boom" in result.unavailable
    timed_only = rows.measure_external(rows.External("op", "peer", lambda: 1.0, None, unavailable="no hub"), None,
                                       "cpu", repeats=2)
    assert timed_only.peer_s is None and timed_only.unavailable == "no hub"


def test_close_values_reads_a_missing_peer_value_as_nan(bench_modules):
    _, rows = bench_modules
    found = rows.close_values([1.0, 2.0], [1.5, 2.0])
    assert found.max_abs_difference == pytest.approx(0.5) and found.max_abs_value == 2.0
    assert math.isnan(rows.scalar(None))
