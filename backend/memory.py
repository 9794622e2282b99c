"""Byte budgets for the float64 work over the vocabulary, scaled to the machine and to the request.

The statistics of a position (token_stats, the kurtosis of generation_scores) need a few float64 copies of its
V logits. Holding them for all T positions at once costs T x V x bytes; processing `rows_within(...)` positions
at a time bounds that to a budget, which `float64_budget_bytes` takes as a fixed fraction of the memory available
on the logits' device (MemAvailable on the CPU, the allocator's free memory on a GPU), clamped so that a small
machine still gets whole rows and a large one does not hold more than helps: beyond a few dozen rows per pass the
per-pass overhead is already negligible.
"""
from __future__ import annotations

from typing import Optional

import torch

MiB = 2 ** 20
BUDGET_FRACTION = 1 / 4096  # of the available memory: 4.5 MiB on a machine with 18 GiB available
MIN_BUDGET_BYTES = 2 * MiB
MAX_BUDGET_BYTES = 64 * MiB
MEMINFO = "/proc/meminfo"


def budget_from_available(available: Optional[int], *, fraction: float = BUDGET_FRACTION,
                          low: int = MIN_BUDGET_BYTES, high: int = MAX_BUDGET_BYTES) -> int:
    """The byte budget for one pass: fraction x available bytes, clamped to [low, high]; low when unknown."""
    if available is None:
        return low
    return int(min(high, max(low, available * fraction)))


def rows_within(budget_bytes: int, vocab_size: int, positions: int, bytes_per_entry: int) -> int:
    """Positions per pass so that positions x vocab_size x bytes_per_entry stays within budget_bytes.

    At least 1 (a single row is always processed, even beyond the budget) and at most max(1, positions).
    """
    if vocab_size < 1 or bytes_per_entry < 1:
        raise ValueError(f"vocab_size and bytes_per_entry must be >= 1, got {vocab_size}, {bytes_per_entry}")
    return max(1, min(positions, budget_bytes // (vocab_size * bytes_per_entry)))


def meminfo_available(text: str) -> Optional[int]:
    """MemAvailable in bytes from the text of /proc/meminfo ('MemAvailable:  18992896 kB'); None if absent."""
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if name == "MemAvailable":
            value, *unit = rest.split()
            return int(value) * (1024 if unit == ["kB"] else 1)
    return None


def available_bytes(device: torch.device | str) -> Optional[int]:
    """Free memory on device, bytes: the CUDA allocator's free memory, else the host's MemAvailable (None where
    neither can be read, e.g. macOS or an MPS device)."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    try:
        with open(MEMINFO) as handle:
            return meminfo_available(handle.read())
    except OSError:
        return None


def float64_budget_bytes(device: torch.device | str) -> int:
    """The byte budget of one float64 pass on device (budget_from_available of its free memory)."""
    return budget_from_available(available_bytes(device))
