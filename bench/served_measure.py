"""The pure parts of bench/bench_served.py: interleaved rounds of several sides, medians, ratios, percentiles,
latency summaries and the cycled question file an N-question audit runs on.

Times are wall-clock seconds; a ratio is other side / baseline side, so above 1 means the baseline is faster.
"""
from __future__ import annotations

import json
import math
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

Run = Callable[[], Any]


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (q in [0, 100]) of values, linearly interpolated between the closest ranks (numpy's
    default 'linear' method): rank q/100 * (n - 1) of the sorted values. ValueError for no values."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile q must be in [0, 100], got {q}")
    ordered = sorted(values)
    rank = q / 100.0 * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ratio(numerator: Optional[float], denominator: Optional[float], floor: float = 1e-9) -> Optional[float]:
    """numerator / denominator, or None when either is missing or the denominator is below floor."""
    if numerator is None or denominator is None or denominator < floor:
        return None
    return numerator / denominator


@dataclass(frozen=True)
class Latency:
    """A load run's figures: answers finished, wall seconds of the whole run, answers per second, and the p50 /
    p95 / max of the per-answer latencies (seconds from a user's click to its answer, retries included)."""

    answers: int
    seconds: float
    answers_per_s: float
    p50_s: float
    p95_s: float
    max_s: float


def latency_summary(latencies: Sequence[float], seconds: float) -> Latency:
    """The Latency of a run that finished these answers (their latencies, s) in `seconds` of wall time."""
    return Latency(answers=len(latencies), seconds=seconds, answers_per_s=len(latencies) / seconds,
                   p50_s=percentile(latencies, 50), p95_s=percentile(latencies, 95), max_s=max(latencies))


@dataclass
class Rounds:
    """Per side (by name, in the order run): the seconds and the output of every timed round."""

    seconds: dict[str, list[float]]
    outputs: dict[str, list[Any]]

    def median(self, side: str) -> Optional[float]:
        """The median seconds of a side, None when it did not run."""
        found = self.seconds.get(side)
        return statistics.median(found) if found else None


def interleaved(sides: dict[str, Run], repeats: int, warm_up: bool = True,
                clock: Callable[[], float] = time.perf_counter) -> Rounds:
    """Run every side once untimed when warm_up, then `repeats` rounds each running every side once in the given
    order (so a change of load on a shared machine hits all sides alike); every call is timed with clock."""
    if warm_up:
        for run in sides.values():
            run()
    rounds = Rounds({name: [] for name in sides}, {name: [] for name in sides})
    for _ in range(repeats):
        for name, run in sides.items():
            started = clock()
            output = run()
            rounds.seconds[name].append(clock() - started)
            rounds.outputs[name].append(output)
    return rounds


def cycled(items: Sequence[Any], n: int) -> list[Any]:
    """The first n items of items repeated as often as needed (items[i % len(items)])."""
    if not items:
        raise ValueError("no items to cycle")
    return [items[i % len(items)] for i in range(n)]


def write_cycled_questions(rows: Sequence[dict], n: int, path: Path) -> Path:
    """A QA JSONL file of n questions: rows (dicts with "id", "question", "answers") cycled, each repeat's id
    suffixed "#r<round>" so every line has its own id; returns path."""
    lines = []
    for i, row in enumerate(cycled(rows, n)):
        repeat = i // len(rows)
        lines.append(json.dumps({**row, "id": f"{row['id']}#r{repeat}" if repeat else row["id"]}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def side_rows(part: str, rounds: Rounds, baseline: str, unavailable: dict[str, str], notes: dict[str, str],
              work: Optional[int] = None) -> list[dict[str, Any]]:
    """One JSON row per side of a part: its median seconds, the number of timed rounds, the ratio side / baseline
    (above 1: the baseline is faster), work / seconds when work (items, answers) is given, and its note or why it
    could not run."""
    base = rounds.median(baseline)
    rows = []
    for side in list(rounds.seconds) + [s for s in unavailable if s not in rounds.seconds]:
        median = rounds.median(side)
        rows.append({"part": part, "side": side, "median_s": median, "rounds": len(rounds.seconds.get(side, [])),
                     "seconds": rounds.seconds.get(side, []), "ratio_to_baseline": ratio(median, base),
                     "baseline": baseline, "per_s": ratio(work, median) if work else None,
                     "note": notes.get(side, ""), "unavailable": unavailable.get(side, "")})
    return rows
