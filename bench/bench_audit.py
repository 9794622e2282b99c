"""Batched audit throughput against an item-by-item loop, measured in one run.

Both paths answer the same bundled questions greedily with the default text model and compute the same token-level
confidences: the baseline calls backend.text.generation.analyze_text once per question (a generate call and a
scoring pass each, as the Text page does); the audit path calls backend.audit.batch_text.answer_batch on batches.
Each is run once to warm up, then `--repeats` times; the median wall time gives items per second, and the ratio is
batched / loop. Prints a table and writes JSON next to it.

  .venv/bin/python bench/bench_audit.py --items 16 --batch-size 8 --max-new-tokens 16 --json bench/audit.json
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.audit.batch_text import answer_batch  # noqa: E402
from backend.audit.datasets import load_dataset  # noqa: E402
from backend.engine import Engine  # noqa: E402
from backend.schemas import DEFAULT_TEXT_MODEL, TextRequest  # noqa: E402
from backend.text.generation import analyze_text  # noqa: E402


def loop(lm, questions: list[str], max_new_tokens: int) -> None:
    """The baseline: one full analysis per question."""
    for question in questions:
        analyze_text(lm, TextRequest(model=lm.spec.id, prompt=question, max_new_tokens=max_new_tokens))


def batched(lm, questions: list[str], max_new_tokens: int, batch_size: int) -> None:
    """The audit path: batches of questions, one generate call and one scoring pass per batch."""
    for start in range(0, len(questions), batch_size):
        answer_batch(lm, questions[start:start + batch_size], max_new_tokens)


def median_seconds(run, repeats: int) -> float:
    """Median wall time of `repeats` runs after one warm-up run."""
    run()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default=None, help="cpu, cuda, ... (default: the engine's choice)")
    parser.add_argument("--json", default="bench/audit_throughput.json")
    args = parser.parse_args()
    engine = Engine(device=args.device)
    lm = engine.text_model(DEFAULT_TEXT_MODEL)
    questions = [q.question for q in load_dataset("builtin-qa").qa[:args.items]]
    loop_s = median_seconds(lambda: loop(lm, questions, args.max_new_tokens), args.repeats)
    batch_s = median_seconds(lambda: batched(lm, questions, args.max_new_tokens, args.batch_size), args.repeats)
    result = {"device": lm.device, "model": DEFAULT_TEXT_MODEL, "items": len(questions), "batch_size": args.batch_size,
              "max_new_tokens": args.max_new_tokens, "repeats": args.repeats,
              "loop_items_per_s": len(questions) / loop_s, "batched_items_per_s": len(questions) / batch_s,
              "loop_median_s": loop_s, "batched_median_s": batch_s, "speedup": loop_s / batch_s}
    print(f"{'path':<16}{'median s':>10}{'items/s':>10}")
    print(f"{'item-by-item':<16}{loop_s:>10.2f}{result['loop_items_per_s']:>10.2f}")
    print(f"{'batched':<16}{batch_s:>10.2f}{result['batched_items_per_s']:>10.2f}")
    print(f"speedup (batched / item-by-item): {result['speedup']:.2f}x on {lm.device}, batch {args.batch_size}, "
          f"{len(questions)} items, {args.max_new_tokens} new tokens at most")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
