"""Byte budgets of the float64 passes: hand-computed rows, budgets and /proc/meminfo parsing."""
from __future__ import annotations

import pytest

from backend.memory import (MAX_BUDGET_BYTES, MIN_BUDGET_BYTES, MiB, available_bytes, budget_from_available,
                            float64_budget_bytes, meminfo_available, rows_within)

MEMINFO_TEXT = """MemTotal:       24522164 kB
MemFree:         1234567 kB
MemAvailable:   18992896 kB
Buffers:          123456 kB
"""


def test_rows_within_is_the_budget_over_the_bytes_of_one_row():
    # one row of the default model's 49,152-entry vocabulary in two float64 buffers: 786,432 bytes
    assert rows_within(8 * MiB, 49_152, 1_000, 16) == 10  # 8,388,608 // 786,432 = 10.67
    assert rows_within(786_432 * 3, 49_152, 1_000, 16) == 3


def test_rows_within_never_exceeds_the_positions_nor_goes_below_one():
    assert rows_within(64 * MiB, 49_152, 7, 16) == 7
    assert rows_within(10, 49_152, 1_000, 16) == 1
    assert rows_within(10, 49_152, 0, 16) == 1


@pytest.mark.parametrize("vocab, per_entry", [(0, 16), (4, 0)])
def test_rows_within_refuses_empty_rows(vocab, per_entry):
    with pytest.raises(ValueError, match=">= 1"):
        rows_within(MiB, vocab, 4, per_entry)


def test_budget_is_a_fraction_of_the_available_memory_clamped():
    assert budget_from_available(16 * 2 ** 30) == 4 * MiB  # 16 GiB / 4096
    assert budget_from_available(1 * 2 ** 30) == MIN_BUDGET_BYTES  # 256 KiB, below the floor
    assert budget_from_available(2 ** 40) == MAX_BUDGET_BYTES  # 1 TiB / 4096 = 256 MiB, above the cap
    assert budget_from_available(None) == MIN_BUDGET_BYTES
    assert budget_from_available(1000, fraction=0.5, low=1, high=10_000) == 500


def test_meminfo_available_reads_kilobytes():
    assert meminfo_available(MEMINFO_TEXT) == 18_992_896 * 1024
    assert meminfo_available("MemTotal: 10 kB\n") is None


def test_the_cpu_budget_comes_from_this_machine():
    available = available_bytes("cpu")
    assert available is None or available > 0
    assert MIN_BUDGET_BYTES <= float64_budget_bytes("cpu") <= MAX_BUDGET_BYTES
