"""The benchmark harness (bench/harness.py): agreement and ratios by hand, and its peak-memory reading against a
buffer of known size."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from bench import harness

MIB = 2 ** 20


def test_agreement_is_the_largest_difference_and_value():
    found = harness.agreement([1.0, -3.0, 2.0], torch.tensor([1.5, -3.0, 1.0]))
    assert found == harness.Agreement(max_abs_difference=1.0, max_abs_value=3.0)
    assert harness.worst([found, harness.Agreement(0.25, 7.0)]) == harness.Agreement(1.0, 7.0)
    with pytest.raises(ValueError, match="shapes"):
        harness.agreement([1.0, 2.0], [1.0])


def test_ratio_is_peer_over_uqlens_and_missing_when_undefined():
    assert harness.ratio(3.0, 1.5) == 2.0
    assert harness.ratio(None, 1.0) is None and harness.ratio(1.0, 0.0) is None
    assert harness.ratio(5.0, 0.5, floor=1.0) is None


def test_measure_runs_times_every_round_and_reads_memory_in_one_more_call():
    calls = {"a": 0, "b": 0}

    def run(name: str):
        def call():
            calls[name] += 1
            return calls[name]
        return call

    measured = harness.measure_runs([run("a"), run("b")], "cpu", repeats=3, warm_up=True, memory=True)
    assert calls == {"a": 5, "b": 5}  # warm-up, 3 timed rounds, 1 memory call
    assert measured.outputs == [4, 4]  # the last timed round's outputs
    assert len(measured.seconds) == 2 and all(s >= 0 for s in measured.seconds)
    assert all(p is not None for p in measured.peaks)


def test_a_run_timed_once_reads_its_memory_in_that_run():
    calls = []
    measured = harness.measure_runs([lambda: calls.append(1)], "cpu", repeats=1, warm_up=False, memory=True)
    assert len(calls) == 1 and measured.peaks[0] is not None


def test_peak_memory_counts_a_touched_buffer_even_after_an_earlier_run_freed_one():
    size = 16 * MIB  # under glibc's largest mmap threshold: a freed copy stays in the heap unless trimmed

    def touch() -> int:
        buffer = np.ones(size, dtype=np.uint8)  # written, so every page is resident
        return int(buffer[::4096].sum())

    for _ in range(2):  # earlier runs: glibc then keeps their freed pages (measured: the next peak read 0 MiB)
        touch()
    _, output, peak = harness.call(touch, "cpu", memory=True)
    assert output == size // 4096
    assert 0.9 * size / MIB <= peak <= 1.5 * size / MIB


def test_table_numbers_the_notes_and_marks_unavailable_peers():
    results = [harness.Result("op one", "peer", 1.0, 2.0, 2.0, note="same definition"),
               harness.Result("op two", "peer", 1.0, None, None, unavailable="needs the hub")]
    text = harness.table(results)
    assert "[1] same definition" in text and "[2] unavailable: needs the hub" in text
    assert "peer (unavailable)" in text


def test_quick_runs_halve_the_unset_sizes_and_time_one_round():
    sizes = [("--tokens", 16, "answer tokens"), ("--ig-steps", 3, "path points")]
    p = harness.parser("doc")
    for flag, _default, text in sizes:
        p.add_argument(flag, type=int, help=text)
    full = p.parse_args([])
    harness.apply_quick(full, sizes)
    assert (full.tokens, full.ig_steps, full.repeats) == (16, 3, 3)
    quick = p.parse_args(["--quick", "--tokens", "12"])
    harness.apply_quick(quick, sizes)
    assert (quick.tokens, quick.ig_steps, quick.repeats) == (12, 2, 1)
