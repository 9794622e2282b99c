"""K sampled answers on the default text model: one batched generate call vs. K separate generate calls, in one run.

    .venv/bin/python bench/bench_sampling.py [--samples 4 8 16] [--max-new-tokens 24] [--repeats 3]
                                             [--device cpu|cuda] [--out FILE]

Both ways run the code the sample-based methods use (backend.sequence.sampling.sample_answers, which also reads each token's
log-probability from the logits): once with k=K (one generate call, num_return_sequences=K) and K times with k=1
(seeds seed, seed+1, ...). The prompt is a story opening without the chat template, so that answers rarely end
before --max-new-tokens and both ways generate about the same number of tokens (the table reports them). Each
timing is the median of --repeats runs after one warm-up; the ratio separate / batched is the speed-up. Prints a
table and writes it as JSON (default: artifacts/bench/bench_sampling.json).
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
from backend.sequence.sampling import Sample, sample_answers  # noqa: E402
from backend.schemas import DEFAULT_TEXT_MODEL  # noqa: E402
from backend.text.generation import build_model_input  # noqa: E402

PROMPT = "Once upon a time, in a small village by the sea,"
TEMPERATURE = 1.0
SEED = 0


def synchronize(device: str) -> None:
    """Wait for queued GPU work so the clock measures it."""
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def median_seconds(run: Callable[[], list[Sample]], device: str, repeats: int) -> tuple[float, int]:
    """(median wall time of run() over `repeats` calls after one warm-up call, tokens generated per call)."""
    run()
    synchronize(device)
    times, tokens = [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        samples = run()
        synchronize(device)
        times.append(time.perf_counter() - started)
        tokens = sum(len(s.ids) for s in samples)
    return statistics.median(times), tokens


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, nargs="+", default=[4, 8, 16])
    parser.add_argument("--max-new-tokens", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default=None, help="default: CUDA when present, else CPU")
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts" / "bench" / "bench_sampling.json")
    args = parser.parse_args()

    engine = Engine(device=args.device) if args.device else Engine()
    lm = engine.text_model(DEFAULT_TEXT_MODEL)
    _text, ids, _used = build_model_input(lm, PROMPT, False)
    tokens = args.max_new_tokens

    def batched(k: int) -> Callable[[], list[Sample]]:
        return lambda: sample_answers(lm, ids, k=k, temperature=TEMPERATURE, max_new_tokens=tokens, seed=SEED)

    def separate(k: int) -> Callable[[], list[Sample]]:
        return lambda: [sample_answers(lm, ids, k=1, temperature=TEMPERATURE, max_new_tokens=tokens,
                                       seed=SEED + i)[0] for i in range(k)]

    rows = []
    print(f"{lm.spec.id} on {lm.device} ({lm.model.dtype}), prompt of {len(ids)} tokens, up to {tokens} new tokens "
          f"per sample, median of {args.repeats} after a warm-up")
    print(f"{'K':>4} {'separate s':>11} {'batched s':>10} {'speed-up':>9} {'tokens sep/batch':>17}")
    for k in args.samples:
        separate_s, separate_tokens = median_seconds(separate(k), lm.device, args.repeats)
        batched_s, batched_tokens = median_seconds(batched(k), lm.device, args.repeats)
        rows.append(dict(samples=k, separate_seconds=separate_s, batched_seconds=batched_s,
                         speedup=separate_s / batched_s, separate_tokens=separate_tokens,
                         batched_tokens=batched_tokens))
        print(f"{k:>4} {separate_s:>11.3f} {batched_s:>10.3f} {separate_s / batched_s:>8.2f}x "
              f"{separate_tokens:>8}/{batched_tokens:<8}")
    result = dict(benchmark="bench_sampling", model=lm.spec.id, device=lm.device, dtype=str(lm.model.dtype),
                  torch=torch.__version__, threads=torch.get_num_threads(), platform=platform.platform(),
                  prompt=PROMPT, max_new_tokens=tokens, temperature=TEMPERATURE, repeats=args.repeats, rows=rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
