"""Rows of a peer benchmark whose peer runs in its own venv (bench/peer_protocol.py): UQ Lens is timed here, the
peer in its worker process, in interleaved rounds (UQ Lens, then the peer, back to back), and the report is the
harness's table and JSON (harness.Result rows; no memory columns: the peer's heap is another process's)."""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import torch

import harness
from peer_protocol import PeerProcess, missing_venv

EXTERNAL_TIME = ("the peer's seconds are read inside its worker process (its own venv), around the one call, so "
                 "the pipe's round trip is not counted; each round runs UQ Lens here, then the peer there")


@dataclass(frozen=True)
class External:
    """One operation done by UQ Lens (uqlens: a zero-argument callable here) and by the peer (peer_op: the
    worker's operation name; None with the reason in unavailable). difference(UQ Lens output, the peer's JSON
    value): the Agreement of the comparable values (None: timed only)."""

    operation: str
    peer_name: str
    uqlens: Callable[[], Any]
    peer_op: Optional[str]
    difference: Optional[Callable[[Any, Any], Optional[harness.Agreement]]] = None
    note: str = ""
    unavailable: str = ""
    repeats: Optional[int] = None


def measure_external(row: External, peer: Optional[PeerProcess], device: str, repeats: int) -> harness.Result:
    """One warm-up round, then row.repeats (or repeats) rounds of UQ Lens here and the peer in its worker; the
    medians, and the agreement of the last round's outputs. A peer error makes the row unavailable with it."""
    rounds = row.repeats or repeats
    ours: list[float] = []
    theirs: list[float] = []
    output: Any = None
    value: Any = None
    unavailable = row.unavailable or ("" if peer is not None else "the peer's worker did not start")
    for round_index in range(rounds + 1):
        seconds, output, _ = harness.call(row.uqlens, device)
        if round_index:
            ours.append(seconds)
        if row.peer_op is None or unavailable:
            continue
        try:
            reply = peer.run(row.peer_op)
        except RuntimeError as exc:
            unavailable = str(exc)
            continue
        if round_index:
            theirs.append(reply["seconds"])
        value = reply["value"]
    peer_s = statistics.median(theirs) if theirs and not unavailable else None
    found = row.difference(output, value) if row.difference is not None and peer_s is not None else None
    uqlens_s = statistics.median(ours)
    return harness.Result(operation=row.operation, peer=row.peer_name, uqlens_s=uqlens_s, peer_s=peer_s,
                          time_ratio=harness.ratio(peer_s, uqlens_s), note=row.note, unavailable=unavailable,
                          max_abs_difference=found.max_abs_difference if found else None,
                          max_abs_value=found.max_abs_value if found else None)


Build = Callable[[argparse.Namespace], tuple[dict[str, Any], list[External], Optional[PeerProcess]]]


def main(doc: str, build: Build, *sizes: tuple[str, int, str]) -> int:
    """Entry point of a benchmark against a peer in its own venv: the harness's options (--no-memory is
    accepted, memory is not measured), build(args) -> (context with "device", rows, the started worker or None),
    then the rows measured, the table printed and the JSON written as harness.run does."""
    p = harness.parser(doc)
    for flag, default, text in sizes:
        p.add_argument(flag, type=int, help=f"{text} (default {default}; {harness.quick_size(default)} with "
                                            "--quick)")
    args = p.parse_args()
    harness.apply_quick(args, sizes)
    if args.threads:
        torch.set_num_threads(args.threads)
    context, rows, peer = build(args)
    device = context["device"]
    results = []
    try:
        for row in rows:
            print(f"measuring: {row.operation} (UQ Lens vs {row.peer_name}) ...", flush=True)
            results.append(measure_external(row, peer, device, args.repeats))
    finally:
        if peer is not None:
            peer.close()
    report = {"benchmark": Path(sys.argv[0]).stem, **harness.environment(device), **context,
              "time_definition": f"{harness.TIME_DEFINITION}; {EXTERNAL_TIME}", "repeats": args.repeats,
              "quick": args.quick, "memory_definition": None, "results": [asdict(r) for r in results]}
    print(f"\n{report['benchmark']}: {context.get('model')} on {report['machine']} ({device}), "
          f"{report['date']}; times: median of {args.repeats} after a warm-up\n")
    print(harness.table(results))
    name = f"{report['benchmark']}{'-quick' if args.quick else ''}.json"
    out = args.out or harness.ROOT / "artifacts" / "bench" / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"\nwritten to {out}")
    return 0


def start_peer(venv: str, worker: str, make_target: str, evidence: dict[str, Any], threads: Optional[int]
               ) -> tuple[Optional[PeerProcess], str]:
    """(the worker bench/<worker>.py started under <venv>/bin/python on the evidence, "") or (None, why not).

    The evidence, with "threads" (the bench's --threads, for the worker's torch; None: torch's default), is
    written as JSON to artifacts/bench/<worker>-evidence.json (kept: what the peer was fed). The worker runs
    offline (HF_HUB_OFFLINE=1) with the bench's environment otherwise."""
    python = harness.ROOT / venv / "bin" / "python"
    missing = missing_venv(python, make_target)
    if missing:
        return None, missing
    path = harness.ROOT / "artifacts" / "bench" / f"{worker}-evidence.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**evidence, "threads": threads}))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
           "LITELLM_LOCAL_MODEL_COST_MAP": "True"}  # LiteLLM (TruthTorchLM's) would fetch its price list
    try:
        peer = PeerProcess(python, harness.ROOT / "bench" / f"{worker}.py", path, env)
    except RuntimeError as exc:
        return None, str(exc)
    everything = peer.hello.get("unavailable", {}).get("*")
    if everything:
        peer.close()
        return None, everything
    return peer, ""


def scalar(value: Any) -> float:
    """A peer's JSON value as one float (None, for JSON's missing NaN, as NaN)."""
    return float("nan") if value is None else float(value)


def close_values(ours: Sequence[float], theirs: Sequence[float]) -> harness.Agreement:
    """harness.agreement of two equal-length lists of numbers (the peer's None read as NaN)."""
    return harness.agreement([float(v) for v in ours], [scalar(v) for v in theirs])
