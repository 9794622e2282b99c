"""Shared measuring of the peer benchmarks (issue 8): timing, peak memory, the table and the JSON report.

A benchmark script builds a list of Comparisons (one operation done by UQ Lens and by a peer on the same model and
inputs) and hands it to `run`, which
  - times both sides in interleaved rounds: one warm-up round, then --repeats rounds, each running UQ Lens then the
    peer back to back so that a change of load on a shared machine hits both; the medians are reported;
  - measures peak memory in one more run of each side after the timed rounds (an operation timed once: in that
    run), from a heap whose free pages went back to the OS (see MEMORY_DEFINITION);
  - computes the agreement of the two outputs of the last timed round (largest absolute difference);
  - prints a table with numbered notes and writes everything as JSON (artifacts/bench/<name>.json by default).
"""
from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import functools
import gc
import importlib
import importlib.metadata
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import asdict, dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from backend.schemas import DEFAULT_TEXT_MODEL  # noqa: E402  (the project root must be importable first)

PEER_PACKAGES = ("torch", "transformers", "captum", "inseq", "lm-polygraph", "bertviz")
TIME_DEFINITION = ("wall-clock seconds of the whole operation: the median of --repeats rounds after one warm-up "
                   "round (a sweep warms up on its smallest size only), each round running UQ Lens and then the "
                   "peer back to back (CUDA synchronised before the clock is read); ratio = peer / UQ Lens, above 1 "
                   "means UQ Lens is faster")
MEASURED_RUN = ("measured in one more run of each side after the timed rounds (an operation timed once, as in the "
                "sweeps: in that timed run, which then starts from the trimmed heap); ratio = peer / UQ Lens")
MEMORY_DEFINITION = {
    "cpu": "peak resident set size during the operation minus the resident set size just before it, MiB (Linux "
           "VmHWM, reset through /proc/self/clear_refs after Python's garbage collector ran and glibc's "
           "malloc_trim gave the heap's free pages back to the OS, so that the peak counts the pages this run "
           "touches and not those an earlier run left), " + MEASURED_RUN,
    "cuda": "torch.cuda.max_memory_allocated during the operation minus torch.cuda.memory_allocated just before "
            "it, MiB (PyTorch's allocator on the GPU), " + MEASURED_RUN,
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
    --repeats. details(uqlens output, peer output or None) -> {name: value}: more figures of the row (a
    convergence delta of each side), added to its note. same_peer_as: the operation of an earlier row whose peer
    measurement this row's UQ Lens run is set against (a variant of UQ Lens, the peer not run again).
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
    details: Optional[Callable[[Output, Optional[Output]], dict[str, Any]]] = None
    same_peer_as: str = ""


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
    details: Optional[dict[str, Any]] = None


def parser(doc: str) -> argparse.ArgumentParser:
    """An argument parser with the options every benchmark takes."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=DEFAULT_TEXT_MODEL, help="registered text model id (register larger ones "
                   "with UQLENS_TEXT_MODELS or UQLENS_MODELS_FILE)")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 (default: CUDA when present, else CPU)")
    p.add_argument("--repeats", type=int, default=3, help="timed rounds after the warm-up")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory runs")
    p.add_argument("--out", type=Path, help="JSON report (default: artifacts/bench/<script>.json, or "
                                             "<script>-quick.json with --quick)")
    p.add_argument("--quick", action="store_true", help="every row once at half the default sizes (one timed "
                                                        "round after the warm-up): a check that every row runs; "
                                                        "the README's figures come from the full run")
    p.add_argument("--memory-budget-mib", type=int, nargs="+", default=[],
                   help="the saliency benchmarks: also time the gradient methods with UQ Lens's batches sized to "
                        "each of these budgets (MiB), beside the peer's row")
    p.add_argument("--ig-uq-steps", type=int, nargs="+", default=[],
                   help="the saliency benchmarks: also time UQ Lens's integrated gradients at each of these steps, "
                        "beside the peer's row at --ig-steps, with the convergence delta of each")
    return p


def quick_size(default: int) -> int:
    """The size a --quick run uses for a size option whose full-run default is `default` (half, at least 2)."""
    return max(2, default // 2)


def apply_quick(args: argparse.Namespace, sizes: Sequence[tuple[str, int, str]] = ()) -> None:
    """Fill the size options left unset (dest of each flag) with their defaults, halved under --quick, where a
    run also has one timed round."""
    for flag, default, _text in sizes:
        dest = flag.lstrip("-").replace("-", "_")
        if getattr(args, dest) is None:
            setattr(args, dest, quick_size(default) if args.quick else default)
    if args.quick:
        args.repeats = 1


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


@functools.lru_cache(maxsize=1)
def malloc_trim() -> Optional[Callable[[int], int]]:
    """glibc's malloc_trim, or None where the C library has none (found once: find_library runs ldconfig)."""
    libc_name = ctypes.util.find_library("c")
    return getattr(ctypes.CDLL(libc_name), "malloc_trim", None) if libc_name else None


def release_free_heap() -> None:
    """Collect Python garbage and give the C heap's free pages back to the OS (glibc's malloc_trim; a no-op
    elsewhere), so that a resident-set peak measured next counts the pages its run touches."""
    gc.collect()
    trim = malloc_trim()
    if trim is not None:
        trim(0)


def start_peak(device: str) -> float:
    """Reset the peak-memory counter and return the memory in use now, MiB (see MEMORY_DEFINITION)."""
    if device.startswith("cuda"):
        synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        return torch.cuda.memory_allocated(device) / 2 ** 20
    release_free_heap()
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # resets VmHWM to the current resident set size
    return read_status_mib("VmRSS")


def peak_since(device: str, start: float) -> float:
    """The peak memory since start_peak beyond what was in use then, MiB."""
    if device.startswith("cuda"):
        return torch.cuda.max_memory_allocated(device) / 2 ** 20 - start
    return read_status_mib("VmHWM") - start


def call(run: Callable[[], Output], device: str, memory: bool = False) -> tuple[float, Output, Optional[float]]:
    """(wall seconds, output, peak MiB beyond the start or None) of one call; with memory the peak counter is
    reset (and on CPU the heap trimmed) before the clock starts."""
    start = start_peak(device) if memory else 0.0
    started = time.perf_counter()
    output = run()
    synchronize(device)
    seconds = time.perf_counter() - started
    return seconds, output, peak_since(device, start) if memory else None


@dataclass
class Measured:
    """Median seconds of each run, the output of each run's last timed call, and each run's peak MiB (None
    where memory was not measured)."""

    seconds: list[float]
    outputs: list[Output]
    peaks: list[Optional[float]]


def measure_runs(runs: list[Callable[[], Output]], device: str, repeats: int, warm_up: bool, memory: bool
                 ) -> Measured:
    """Time `repeats` rounds, each calling every run once in order, after one untimed warm-up round when warm_up;
    with memory, measure each run's peak in one more call (or, when repeats is 1, in its timed call)."""
    if warm_up:
        for run in runs:
            call(run, device)
    in_rounds = memory and repeats == 1
    times: list[list[float]] = [[] for _ in runs]
    outputs: list[Output] = [None] * len(runs)
    peaks: list[Optional[float]] = [None] * len(runs)
    for _ in range(repeats):
        for i, run in enumerate(runs):
            seconds, outputs[i], peaks[i] = call(run, device, in_rounds)
            times[i].append(seconds)
    if memory and not in_rounds:
        peaks = [call(run, device, memory=True)[2] for run in runs]
    return Measured([statistics.median(t) for t in times], outputs, peaks)


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


def measure_comparison(c: Comparison, device: str, repeats: int, memory: bool) -> Result:
    """Time one Comparison, measure its peak memory (when memory and c.memory) and the agreement of its outputs."""
    runs = [c.uqlens] if c.peer is None else [c.uqlens, c.peer]
    measured = measure_runs(runs, device, c.repeats or repeats, c.warm_up, memory and c.memory)
    found = c.difference(*measured.outputs) if c.difference is not None and c.peer is not None else None
    peer_seconds, peer_mib = (measured.seconds[1], measured.peaks[1]) if c.peer is not None else (None, None)
    details = c.details(measured.outputs[0], measured.outputs[1] if c.peer is not None else None) \
        if c.details is not None else None
    return Result(operation=c.operation, peer=c.peer_name, uqlens_s=measured.seconds[0], peer_s=peer_seconds,
                  time_ratio=ratio(peer_seconds, measured.seconds[0]), uqlens_mib=measured.peaks[0],
                  peer_mib=peer_mib, memory_ratio=ratio(peer_mib, measured.peaks[0], floor=1.0), note=c.note,
                  unavailable=c.unavailable, max_abs_difference=found.max_abs_difference if found else None,
                  max_abs_value=found.max_abs_value if found else None, details=details)


def set_against(result: Result, earlier: Result) -> Result:
    """result with the peer's time and memory of an earlier row (same_peer_as) and the ratios against them."""
    return replace(result, peer_s=earlier.peer_s, peer_mib=earlier.peer_mib,
                   time_ratio=ratio(earlier.peer_s, result.uqlens_s),
                   memory_ratio=ratio(earlier.peer_mib, result.uqlens_mib, floor=1.0))


def read_status_mib(field_name: str) -> float:
    """A memory field of /proc/self/status (VmRSS, VmHWM) in MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/self/status has no {field_name}: peak memory needs Linux (use --no-memory)")


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
        text = f"unavailable: {r.unavailable}" if r.unavailable else "; ".join(
            [r.note] * bool(r.note) + [f"{name}: {value}" for name, value in (r.details or {}).items()])
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


def run(p: argparse.ArgumentParser, build: Callable[[argparse.Namespace], tuple[dict[str, Any], list[Comparison]]],
        sizes: Sequence[tuple[str, int, str]] = ()) -> Finished:
    """Parse the options, build the comparisons, measure them, print the table and write the JSON report.

    build(args) -> (context for the report: device, model, sizes, ... and optionally "benchmark", the report's
    name, default the script's; comparisons). sizes: the script's integer size options (flag, full-run default,
    help), resolved by apply_quick.
    """
    args = p.parse_args()
    apply_quick(args, sizes)
    if args.threads:
        torch.set_num_threads(args.threads)
    context, comparisons = build(args)
    device = context["device"]
    results = []
    for c in comparisons:
        print(f"measuring: {c.operation} (UQ Lens vs {c.peer_name}) ...", flush=True)
        result = measure_comparison(c, device, args.repeats, not args.no_memory)
        earlier = next((r for r in results if r.operation == c.same_peer_as), None) if c.same_peer_as else None
        results.append(set_against(result, earlier) if earlier is not None else result)
    kind = "cuda" if device.startswith("cuda") else "cpu"
    report = {"benchmark": Path(sys.argv[0]).stem, **environment(device), **context,
              "time_definition": TIME_DEFINITION, "repeats": args.repeats, "quick": args.quick,
              "memory_definition": None if args.no_memory else MEMORY_DEFINITION[kind],
              "results": [asdict(r) for r in results]}
    print(f"\n{report['benchmark']}: {context.get('model')} on {report['machine']} ({device}), "
          f"{report['date']}; times: median of {args.repeats} after a warm-up\n")
    print(table(results))
    out = args.out or ROOT / "artifacts" / "bench" / f"{report['benchmark']}{'-quick' if args.quick else ''}.json"
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
        p.add_argument(flag, type=int, help=f"{text} (default {default}; {quick_size(default)} with --quick)")
    run(p, build, sizes)
    return 0
