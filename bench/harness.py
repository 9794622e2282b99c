"""Shared measuring of the peer benchmarks (issue 8): timing, peak memory, the table and the JSON report.

A benchmark script builds a list of Comparisons (one operation done by UQ Lens and by a peer on the same model and
inputs) and hands it to `run`, which
  - times both sides in interleaved rounds: one warm-up round, then --repeats rounds, each running UQ Lens then the
    peer back to back so that a change of load on a shared machine hits both; the medians are reported;
  - measures peak memory in a second process of the same script (see MEMORY_DEFINITION), so that the timings are
    taken with the allocator as users have it;
  - computes the agreement of the two outputs of the last timed round (largest absolute difference);
  - prints a table with numbered notes and writes everything as JSON (artifacts/bench/<name>.json by default).
"""
from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from backend.schemas import DEFAULT_TEXT_MODEL  # noqa: E402  (the project root must be importable first)

PEER_PACKAGES = ("torch", "transformers", "captum", "inseq", "lm-polygraph", "bertviz")
# glibc reads these at start-up: blocks of 64 KiB and more are mapped and unmapped one by one, so the memory a run
# frees goes back to the OS and the next run's resident-set peak counts its own buffers (slower, so only the
# memory process uses it).
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "65536", "MALLOC_TRIM_THRESHOLD_": "0"}
TIME_DEFINITION = ("wall-clock seconds of the whole operation: the median of --repeats rounds after one warm-up "
                   "round (a sweep warms up on its smallest size only), each round running UQ Lens and then the "
                   "peer back to back (CUDA synchronised before the clock is read); ratio = peer / UQ Lens, above 1 "
                   "means UQ Lens is faster")
MEMORY_DEFINITION = {
    "cpu": "peak resident set size during the operation minus the resident set size just before it, MiB (Linux "
           "VmHWM, reset through /proc/self/clear_refs), measured in a second process after one warm-up run (a "
           "sweep: of its smallest size), with glibc's mmap threshold fixed at 64 KiB so that freed buffers go "
           "back to the OS; ratio = peer / UQ Lens",
    "cuda": "torch.cuda.max_memory_allocated during the operation minus torch.cuda.memory_allocated just before "
            "it, MiB (PyTorch's allocator on the GPU), measured in a second process after one warm-up run (a "
            "sweep: of its smallest size); ratio = peer / UQ Lens",
}
Output = Any


@dataclass(frozen=True)
class Comparison:
    """One operation done by UQ Lens and by a peer.

    uqlens / peer: zero-argument callables doing the whole operation and returning its output (peer None when the
    peer cannot run here, with the reason in `unavailable`). difference(uqlens output, peer output): the Agreement
    of the comparable values (None: nothing comparable). note: what is compared, and where the definitions
    differ. warm_up: run each side once before measuring (a sweep warms up on its first point
    only). memory: measure peak memory (off for operations too small to register). repeats: rounds, when not
    --repeats.
    """

    operation: str
    peer_name: str
    uqlens: Callable[[], Output]
    peer: Optional[Callable[[], Output]]
    difference: Optional[Callable[[Output, Output], Optional[Agreement]]] = None
    note: str = ""
    unavailable: str = ""
    warm_up: bool = True
    memory: bool = True
    repeats: Optional[int] = None


@dataclass
class Result:
    """The measured numbers of one Comparison (seconds, MiB; None where not measured)."""

    operation: str
    peer: str
    uqlens_s: float
    peer_s: Optional[float]
    time_ratio: Optional[float]
    uqlens_mib: Optional[float] = None
    peer_mib: Optional[float] = None
    memory_ratio: Optional[float] = None
    max_abs_difference: Optional[float] = None
    max_abs_value: Optional[float] = None
    note: str = ""
    unavailable: str = ""


def parser(doc: str) -> argparse.ArgumentParser:
    """An argument parser with the options every benchmark takes."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=DEFAULT_TEXT_MODEL, help="registered text model id (register larger ones "
                   "with UQLENS_TEXT_MODELS or UQLENS_MODELS_FILE)")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 (default: CUDA when present, else CPU)")
    p.add_argument("--repeats", type=int, default=3, help="timed rounds after the warm-up")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory process")
    p.add_argument("--out", type=Path, help="JSON report (default: artifacts/bench/<script>.json)")
    p.add_argument("--memory-out", type=Path, help=argparse.SUPPRESS)
    return p


def import_peer(module: str) -> tuple[Optional[Any], str]:
    """(the imported module, "") or (None, why it cannot be used: the 'unavailable' reason of its rows)."""
    try:
        return importlib.import_module(module), ""
    except Exception as exc:  # a peer may fail at import for any reason on this stack; the reason is reported
        return None, f"{module} does not import here ({type(exc).__name__}: {exc}); `make bench` installs the peers"


def synchronize(device: str) -> None:
    """Wait for queued GPU work so that the clock and the memory counters see it."""
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)


def timed(run: Callable[[], Output], device: str) -> tuple[float, Output]:
    """(wall seconds, output) of one call."""
    started = time.perf_counter()
    output = run()
    synchronize(device)
    return time.perf_counter() - started, output


def interleaved_medians(runs: list[Callable[[], Output]], device: str, repeats: int, warm_up: bool
                        ) -> tuple[list[float], list[Output]]:
    """(median seconds of each run, the output of each run's last call) over `repeats` rounds; each round calls
    every run once, in order, after one untimed warm-up round when warm_up."""
    if warm_up:
        for run in runs:
            timed(run, device)
    times: list[list[float]] = [[] for _ in runs]
    outputs: list[Output] = [None] * len(runs)
    for _ in range(repeats):
        for i, run in enumerate(runs):
            seconds, outputs[i] = timed(run, device)
            times[i].append(seconds)
    return [statistics.median(t) for t in times], outputs


def ratio(numerator: Optional[float], denominator: Optional[float], floor: float = 1e-9) -> Optional[float]:
    """numerator / denominator, or None when either is missing or the denominator is below floor."""
    if numerator is None or denominator is None or denominator < floor:
        return None
    return numerator / denominator


@dataclass(frozen=True)
class Agreement:
    """The largest |UQ Lens value - peer value| over the compared values, and the largest |UQ Lens value| (the
    scale the difference is to be read against)."""

    max_abs_difference: float
    max_abs_value: float


def as_array(values: Any) -> np.ndarray:
    """Numbers, lists, arrays or tensors as a float64 array."""
    if isinstance(values, torch.Tensor):
        return values.detach().double().cpu().numpy()
    return np.asarray(values, dtype=np.float64)


def agreement(uqlens: Any, peer: Any) -> Agreement:
    """Agreement of two sets of values of one shape."""
    a, b = as_array(uqlens), as_array(peer)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare shapes {a.shape} and {b.shape}")
    if not a.size:
        return Agreement(0.0, 0.0)
    return Agreement(float(np.max(np.abs(a - b))), float(np.max(np.abs(a))))


def worst(agreements: Iterable[Agreement]) -> Agreement:
    """The largest difference and the largest value over several comparisons."""
    found = list(agreements)
    return Agreement(max(a.max_abs_difference for a in found), max(a.max_abs_value for a in found))


def time_comparison(c: Comparison, device: str, repeats: int) -> Result:
    """Time one Comparison and compute the agreement of its outputs."""
    runs = [c.uqlens] if c.peer is None else [c.uqlens, c.peer]
    (uq_s, *peer_s), outputs = interleaved_medians(runs, device, c.repeats or repeats, c.warm_up)
    found = c.difference(*outputs) if c.difference is not None and c.peer is not None else None
    peer_seconds = peer_s[0] if peer_s else None
    return Result(operation=c.operation, peer=c.peer_name, uqlens_s=uq_s, peer_s=peer_seconds,
                  time_ratio=ratio(peer_seconds, uq_s), note=c.note, unavailable=c.unavailable,
                  max_abs_difference=found.max_abs_difference if found else None,
                  max_abs_value=found.max_abs_value if found else None)


def read_status_mib(field_name: str) -> float:
    """A memory field of /proc/self/status (VmRSS, VmHWM) in MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/self/status has no {field_name}: peak memory needs Linux (use --no-memory)")


def peak_memory_mib(run: Callable[[], Output], device: str, warm_up: bool) -> float:
    """Peak memory of one call of run beyond what was in use just before it (see MEMORY_DEFINITION), MiB."""
    if warm_up:
        timed(run, device)
    if device.startswith("cuda"):
        synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
        timed(run, device)
        return (torch.cuda.max_memory_allocated(device) - before) / 2 ** 20
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # resets VmHWM to the current resident set size
    before = read_status_mib("VmRSS")
    timed(run, device)
    return read_status_mib("VmHWM") - before


def measure_memory(comparisons: list[Comparison], device: str) -> list[list[Optional[float]]]:
    """[UQ Lens MiB, peer MiB] for each comparison, in order ([None, None] where memory is not measured)."""
    peaks: list[list[Optional[float]]] = []
    for c in comparisons:
        measured = c.memory
        uq = peak_memory_mib(c.uqlens, device, c.warm_up) if measured else None
        peaks.append([uq, peak_memory_mib(c.peer, device, c.warm_up) if measured and c.peer is not None else None])
    return peaks


def memory_in_child() -> list[list[Optional[float]]]:
    """Run this script again with --memory-out in a process whose allocator returns freed memory (MALLOC_ENV)."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "memory.json"
        command = [sys.executable, sys.argv[0], *sys.argv[1:], "--memory-out", str(out)]
        print("measuring peak memory in a second process ...", flush=True)
        done = subprocess.run(command, env={**os.environ, **MALLOC_ENV}, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"the memory process failed ({done.returncode}):\n{done.stderr[-4000:]}")
        return json.loads(out.read_text())


def device_name(device: str) -> str:
    """The GPU's name on CUDA, else the CPU model and core count."""
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(device)
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or platform.machine())
    return f"{model}, {os.cpu_count()} cores"


def environment(device: str) -> dict[str, Any]:
    """Date, machine and package versions of this run."""
    versions = {}
    for package in PEER_PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return {"date": date.today().isoformat(), "device": device, "machine": device_name(device),
            "platform": platform.platform(), "python": platform.python_version(),
            "torch_threads": torch.get_num_threads(), "versions": versions}


def fmt(value: Optional[float], digits: int = 2) -> str:
    """A number for the table, '-' when missing."""
    if value is None:
        return "-"
    return f"{value:.2e}" if value != 0 and abs(value) < 10 ** -digits else f"{value:.{digits}f}"


def table(results: list[Result]) -> str:
    """The results as a fixed-width table with numbered notes (agreement conventions, unavailable peers)."""
    head = (f"{'operation':<46} {'UQ Lens s':>9} {'peer':<30} {'peer s':>8} {'ratio':>6} {'UQ MiB':>7} "
            f"{'peer MiB':>8} {'ratio':>6} {'max |diff|':>10} {'of |max|':>8}  note")
    lines, notes = [head, "-" * len(head)], []
    for r in results:
        text = f"unavailable: {r.unavailable}" if r.unavailable else r.note
        mark = ""
        if text:
            notes.append(text)
            mark = f"[{len(notes)}]"
        peer = r.peer if not r.unavailable else f"{r.peer} (unavailable)"
        lines.append(f"{r.operation[:46]:<46} {fmt(r.uqlens_s):>9} {peer[:30]:<30} {fmt(r.peer_s):>8} "
                     f"{fmt(r.time_ratio):>6} {fmt(r.uqlens_mib, 0):>7} {fmt(r.peer_mib, 0):>8} "
                     f"{fmt(r.memory_ratio):>6} {fmt(r.max_abs_difference):>10} "
                     f"{fmt(ratio(r.max_abs_difference, r.max_abs_value)):>8}  {mark}")
    return "\n".join(lines + [""] + [f"[{i}] {n}" for i, n in enumerate(notes, 1)])


@dataclass(frozen=True)
class Finished:
    """A finished benchmark: its options, the report written as JSON, the results and where the JSON went."""

    args: argparse.Namespace
    report: dict[str, Any]
    results: list[Result]
    path: Path


def run(p: argparse.ArgumentParser, build: Callable[[argparse.Namespace], tuple[dict[str, Any], list[Comparison]]]
        ) -> Optional[Finished]:
    """Parse the options, build the comparisons, measure them, print the table and write the JSON report.

    build(args) -> (context for the report: device, model, sizes, ... and optionally "benchmark", the report's
    name, default the script's; comparisons). Returns None in the memory process (which only writes its
    measurements).
    """
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    context, comparisons = build(args)
    device = context["device"]
    if args.memory_out:
        args.memory_out.write_text(json.dumps(measure_memory(comparisons, device)))
        return None
    results = []
    for c in comparisons:
        print(f"timing: {c.operation} (UQ Lens vs {c.peer_name}) ...", flush=True)
        results.append(time_comparison(c, device, args.repeats))
    peaks = [[None, None]] * len(results) if args.no_memory else memory_in_child()
    for r, (uqlens_mib, peer_mib) in zip(results, peaks):
        r.uqlens_mib, r.peer_mib = uqlens_mib, peer_mib
        r.memory_ratio = ratio(peer_mib, uqlens_mib, floor=1.0)
    kind = "cuda" if device.startswith("cuda") else "cpu"
    report = {"benchmark": Path(sys.argv[0]).stem, **environment(device), **context,
              "time_definition": TIME_DEFINITION, "repeats": args.repeats,
              "memory_definition": None if args.no_memory else MEMORY_DEFINITION[kind],
              "results": [asdict(r) for r in results]}
    print(f"\n{report['benchmark']}: {context.get('model')} on {report['machine']} ({device}), "
          f"{report['date']}; times: median of {args.repeats} after a warm-up\n")
    print(table(results))
    out = args.out or ROOT / "artifacts" / "bench" / f"{report['benchmark']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"\nwritten to {out}")
    return Finished(args, report, results, out)


def main(doc: str, build: Callable[[argparse.Namespace], tuple[dict[str, Any], list[Comparison]]],
         *sizes: tuple[str, int, str]) -> int:
    """Entry point of a benchmark script: the common options plus its integer size options (flag, default, help),
    then run(). Returns the exit status."""
    p = parser(doc)
    for flag, default, text in sizes:
        p.add_argument(flag, type=int, default=default, help=text)
    run(p, build)
    return 0
