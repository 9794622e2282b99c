"""Rows the saliency benchmarks share: UQ Lens's gradient methods at smaller memory budgets and integrated gradients
at other steps, each set against the peer's row, and the convergence delta of each side.

The relative convergence delta of one explained token is |sum of its scores - (f(input) - f(baseline))| /
|f(input) - f(baseline)| (f: the target, log p of the token); a row reports its median and largest value over the
explained tokens.
"""
from __future__ import annotations

import statistics
from typing import Any, Callable, Sequence

import harness
from backend.schemas.text_saliency import TextSaliency, TextSaliencyRequest

IG = "integrated_gradients"


def relative_deltas(sums: Sequence[float], changes: Sequence[float]) -> list[float]:
    """|sum_n - change_n| / |change_n| for each explained token (inf where the change is 0)."""
    return [abs(s - c) / abs(c) if c else float("inf") for s, c in zip(sums, changes)]


def delta_text(steps: int, deltas: Sequence[float]) -> str:
    """'8 steps, relative delta median 0.052, max 0.31' for a side's table note."""
    return f"{steps} steps, relative delta median {statistics.median(deltas):.3g}, max {max(deltas):.3g}"


def uqlens_deltas(uq: TextSaliency) -> list[float]:
    """UQ Lens's relative convergence delta of each row (its own f(input) and f(baseline))."""
    changes = [row.target_value - row.baseline_value for row in uq.rows]
    return relative_deltas([c + row.convergence_delta for c, row in zip(changes, uq.rows)], changes)


def ig_details(peer_deltas: Callable[[TextSaliency, Any], list[float]], peer_steps: int
               ) -> Callable[[TextSaliency, Any], dict[str, str]]:
    """details() of an integrated-gradients row: the delta of UQ Lens and, when the peer ran, of the peer
    (peer_deltas(uq output, peer output))."""
    def details(uq: TextSaliency, peer: Any) -> dict[str, str]:
        found = {"UQ Lens": delta_text(int(uq.parameters["steps"]), uqlens_deltas(uq))}
        if peer is not None:
            found["peer"] = delta_text(peer_steps, peer_deltas(uq, peer))
        return found
    return details


def variant_rows(base: harness.Comparison, request: TextSaliencyRequest, run: Callable[[TextSaliencyRequest], Any],
                 budgets: Sequence[int], steps: Sequence[int] = ()) -> list[harness.Comparison]:
    """UQ Lens's run of `request` at each memory budget (MiB) and, for integrated gradients, at each number of
    steps, each set against base's peer (not run again)."""
    rows = []
    for budget in budgets:
        varied = request.model_copy(update={"memory_budget_mib": budget})
        rows.append(harness.Comparison(
            f"{base.operation.split(' (')[0]} @ {budget} MiB", base.peer_name, lambda varied=varied: run(varied), None,
            note=f"UQ Lens with its batches sized to {budget} MiB (memory_budget_mib), the same scores; the peer's "
                 f"time and memory: its row above", unavailable=base.unavailable, same_peer_as=base.operation,
            details=base.details))
    for count in steps if request.method == IG else ():
        varied = request.model_copy(update={"parameters": {**request.parameters, "steps": count}})
        rows.append(harness.Comparison(
            f"{IG} matrix ({count} steps)", base.peer_name, lambda varied=varied: run(varied),
            None, note=f"UQ Lens at {count} steps on the same path; the peer's time, memory and steps: its row "
                       f"above (set the deltas side by side)", unavailable=base.unavailable,
            same_peer_as=base.operation, details=base.details))
    return rows
