"""MC dropout on the default image model: K passes batched vs. K separate forward passes, measured in one run.

    .venv/bin/python bench/bench_mc_dropout.py [--passes 8 16 32] [--repeats 5] [--device cpu|cuda] [--out FILE]

For each K, both ways run the same code (backend.image.uncertainty.mc_dropout_passes) on the same image: once with
max_batch=K (one forward pass over K copies of the image, each with its own dropout mask) and once with
max_batch=1 (K forward passes of one image). Each timing is the median of --repeats rounds after one warm-up
round; each round times both ways back to back. The ratio separate / batched is the speed-up. Prints a table
and writes it as JSON (default: artifacts/bench/bench_mc_dropout.json).
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend.engine import Engine  # noqa: E402  (the project root must be importable first)
from backend.image.input import read_image  # noqa: E402
from backend.image.prediction import prepare  # noqa: E402
from backend.image.uncertainty import mc_dropout_passes  # noqa: E402
from backend.schemas import DEFAULT_IMAGE_MODEL  # noqa: E402
from backend.schemas.image import ImageInput  # noqa: E402


def synchronize(device: str) -> None:
    """Wait for queued GPU work so the clock measures it."""
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def interleaved_medians(runs: dict[str, Callable[[], object]], device: str, repeats: int) -> dict[str, float]:
    """Median wall time of each run over `repeats` rounds after one warm-up round. Every round times each run
    once, one after the other, so a load change on a shared machine hits both sides alike."""
    for run in runs.values():
        run()
    synchronize(device)
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            synchronize(device)
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passes", type=int, nargs="+", default=[8, 16, 32])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default=None, help="default: CUDA when present, else CPU")
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts" / "bench" / "bench_mc_dropout.json")
    args = parser.parse_args()

    engine = Engine(device=args.device)
    lm = engine.image_model(DEFAULT_IMAGE_MODEL)
    prepared = prepare(lm, read_image(ImageInput(sample="cat")).image)
    rows = []
    for passes in args.passes:
        medians = interleaved_medians({
            "batched_s": lambda: mc_dropout_passes(lm, prepared, passes, 0, max_batch=passes),
            "separate_s": lambda: mc_dropout_passes(lm, prepared, passes, 0, max_batch=1)}, lm.device, args.repeats)
        rows.append({"passes": passes, **medians, "speedup": medians["separate_s"] / medians["batched_s"]})

    device_name = (torch.cuda.get_device_name(lm.device) if lm.device.startswith("cuda")
                   else platform.processor() or platform.machine())
    print(f"MC dropout, {DEFAULT_IMAGE_MODEL}, {lm.preprocessing.size} px, device {lm.device} ({device_name}), "
          f"torch threads {torch.get_num_threads()}, median of {args.repeats} after a warm-up")
    print(f"{'K':>4} {'batched (s)':>12} {'K separate (s)':>15} {'speed-up':>9}")
    for row in rows:
        print(f"{row['passes']:>4} {row['batched_s']:>12.4f} {row['separate_s']:>15.4f} {row['speedup']:>8.2f}x")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"model": DEFAULT_IMAGE_MODEL, "device": lm.device, "device_name": device_name,
                                    "torch": torch.__version__, "threads": torch.get_num_threads(),
                                    "repeats": args.repeats, "rows": rows}, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
