"""Integrated gradients' convergence on the default text model: the relative convergence delta by steps and
baseline, to choose the default steps of the Attention & saliency page.

    .venv/bin/python bench/ig_convergence.py [--steps 32 64 16 128] [--targets logprob entropy] [--prompts 6]
                                             [--max-new-tokens 12] [--out FILE]
    .venv/bin/python bench/ig_convergence.py --summarise [--out FILE]

Each of the first `--prompts` prompts below is answered greedily by the default model (chat template, as the page
does); the answer's most uncertain content token (the page's first choice) is explained by integrated gradients
for each target and baseline, at each number of steps in the order given (so a run stopped early has the first
ones everywhere). The relative delta is |sum of scores - (target(input) - target(baseline))| / |target(input) -
target(baseline)|. Every result is appended to --out as one JSON line (default:
artifacts/bench/ig_convergence.jsonl); at the end, or with --summarise, a table gives the median and the largest
relative delta per (target, baseline, steps), how many exceed 5 %, and the median seconds per explained token.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend.engine import Engine  # noqa: E402  (the project root must be importable first)
from backend.schemas import DEFAULT_TEXT_MODEL, TextRequest  # noqa: E402
from backend.schemas.text_saliency import TextSaliencyRequest  # noqa: E402
from backend.text.generation import analyze_text  # noqa: E402
from backend.text.saliency import text_saliency  # noqa: E402

PROMPTS = ("What is the capital of France?", "Write a haiku about the sea.", "Who wrote Nineteen Eighty-Four?",
           "Name three primary colours.", "How many legs does a spider have?",
           "Explain in one sentence why the sky is blue.")
BASELINES = ("content_space", "content_zero")
WARN_ABOVE = 0.05


def explained_position(analysis) -> int:
    """The position of the answer's most uncertain content token (not special, not whitespace only), as the
    Attention & saliency page picks it first; of its most uncertain token when none is content."""
    tokens = [t for t in analysis.tokens if not t.special and t.text.strip()] or analysis.tokens
    return max(tokens, key=lambda t: t.entropy).position


def summarise(rows: list[dict]) -> str:
    """The table of relative deltas per (target, baseline, steps), in the order the rows came."""
    keys = list(dict.fromkeys((r["target"], r["baseline"], r["steps"]) for r in rows))
    lines = [f"{'target':9} {'baseline':14} {'steps':>5} {'median rel. delta':>18} {'max':>8} "
             f"{'> ' + format(WARN_ABOVE, '.0%'):>7} {'s/token':>8}"]
    for target, baseline, steps in sorted(keys, key=lambda k: (k[0], k[1], k[2])):
        group = [r for r in rows if (r["target"], r["baseline"], r["steps"]) == (target, baseline, steps)]
        relative = [r["relative"] for r in group if r["relative"] is not None]
        over = sum(r > WARN_ABOVE for r in relative)
        lines.append(f"{target:9} {baseline:14} {steps:5} {statistics.median(relative):18.1%} {max(relative):8.1%} "
                     f"{over:>4}/{len(relative):<2} {statistics.median(r['seconds'] for r in group):8.1f}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, nargs="+", default=[32, 64, 16, 128])
    parser.add_argument("--targets", nargs="+", default=["logprob", "entropy"])
    parser.add_argument("--prompts", type=int, default=len(PROMPTS), help="how many of the prompts to use")
    parser.add_argument("--max-new-tokens", type=int, default=12)
    parser.add_argument("--summarise", action="store_true", help="only print the table of the rows in --out")
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts" / "bench" / "ig_convergence.jsonl")
    args = parser.parse_args()
    if args.summarise:
        print(summarise([json.loads(line) for line in args.out.read_text().splitlines() if line.strip()]))
        return 0
    lm = Engine(device="cpu").text_model(DEFAULT_TEXT_MODEL)
    analyses = [analyze_text(lm, TextRequest(prompt=p, max_new_tokens=args.max_new_tokens))
                for p in PROMPTS[:args.prompts]]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    with args.out.open("w") as out:
        for steps in args.steps:
            for analysis in analyses:
                position = explained_position(analysis)
                for target in args.targets:
                    for baseline in BASELINES:
                        request = TextSaliencyRequest(
                            model=analysis.model, ids=analysis.ids, answer_start=analysis.answer_start,
                            method="integrated_gradients", target=target, positions=[position],
                            parameters={"steps": steps, "baseline": baseline}, temperature=analysis.temperature)
                        started = time.perf_counter()
                        row = text_saliency(lm, request).rows[0]
                        change = row.target_value - row.baseline_value
                        rows.append(dict(prompt=analysis.prompt, token=row.text, position=position, length=len(
                            analysis.ids), target=target, baseline=baseline, steps=steps,
                            delta=row.convergence_delta, change=change,
                            relative=abs(row.convergence_delta) / abs(change) if change else None,
                            seconds=time.perf_counter() - started))
                        out.write(json.dumps(rows[-1]) + "\n")
                        out.flush()
                        print(json.dumps(rows[-1]), flush=True)
    print(summarise(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
