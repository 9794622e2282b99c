"""How UQ Lens's and the best peer's time and memory grow, in one run per sweep; a table, JSON and a PNG plot.

    .venv-bench/bin/python bench/bench_scale.py --sweep length|samples|dataset [--sizes ...] [--repeats 1]
        [--model ID] [--device cpu|cuda] [--threads N] [--no-memory] [--out FILE] [--quick]

  length   per-token probability and entropy of a given answer of 16, 64, 256 tokens (prompt without the chat
           template): Engine.analyze_text (one forward pass) against inseq's step scores (one forward pass per
           answer token), the peer that scores a given answer;
  samples  K = 4, 8, 16 samples of at most 16 tokens and predictive entropy + lexical similarity:
           Engine.analyze_sequence against lm-polygraph's UEManager (as in bench_vs_lm_polygraph.py);
  dataset  50 and 200 questions of the bundled QA set, greedy answers of at most 8 tokens, 8 per batch, scored by
           sequence probability, perplexity and mean token entropy: backend.audit.runner.run_audit (which also
           grades the answers and computes the calibration metrics) against lm-polygraph's UEManager over a
           Dataset with the same batch size.
Each side warms up once on the first (smallest) size; every size is then timed --repeats times (default 1, to
keep the largest sizes within minutes on two CPU cores; a size timed once has its peak memory read in that same
run). --quick uses the smaller QUICK_SWEEPS sizes. Writes artifacts/bench/bench_scale_<sweep>[-quick].json and
.png.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable

import harness
import workload
from backend.audit.datasets import load_dataset
from backend.audit.runner import run_audit
from backend.audit.store import AuditStore
from backend.engine import Engine
from backend.models.text_loader import LoadedTextModel
from backend.schemas import SequenceRequest, TextRequest
from backend.schemas.audit import AuditRequest
from bench_vs_inseq import step_score_difference
from bench_vs_lm_polygraph import QUESTION, SAMPLE_TEMPERATURE, import_polygraph, manager_run

SWEEPS = {"length": [16, 64, 256], "samples": [4, 8, 16], "dataset": [50, 200]}
QUICK_SWEEPS = {"length": [16, 64, 128], "samples": [2, 4, 8], "dataset": [20, 50]}
"""The sizes of a --quick run: every row of the full run, at sizes that keep the whole `make bench-quick` short."""
UNITS = {"length": "answer tokens", "samples": "samples K", "dataset": "questions"}
SAMPLE_TOKENS = 16
DATASET_TOKENS = 8
DATASET_BATCH = 8


def length_sweep(engine: Engine, lm: LoadedTextModel, sizes: list[int]) -> list[harness.Comparison]:
    """analyze_text on a given answer against inseq's probability and entropy step scores."""
    inseq, missing = harness.import_peer("inseq")
    model = inseq.load_model(lm.model, "dummy", tokenizer=workload.tokenizer_copy(lm), device=lm.device) \
        if inseq is not None else None

    def peer(n: int) -> Any:
        full_text = workload.PROMPT + workload.fixed_answer(lm, n)
        return (lambda: model.attribute(workload.PROMPT, full_text, method="dummy", show_progress=False,
                                        step_scores=["probability", "entropy"])) if model is not None else None
    return [harness.Comparison(f"{n} answer tokens", "inseq", lambda n=n: engine.analyze_text(
        workload.score_request(lm, n)), peer(n), step_score_difference, unavailable=missing, warm_up=n == sizes[0])
        for n in sizes]


def samples_sweep(engine: Engine, lm: LoadedTextModel, sizes: list[int]) -> list[harness.Comparison]:
    """analyze_sequence with K samples against lm-polygraph's UEManager with K samples."""
    lmp, est, missing = import_polygraph()

    def uqlens(k: int) -> Callable[[], Any]:
        request = SequenceRequest(text=TextRequest(model=lm.spec.id, prompt=QUESTION, max_new_tokens=SAMPLE_TOKENS),
                                  methods=["predictive_entropy", "lexical_similarity"], samples=k,
                                  sample_temperature=SAMPLE_TEMPERATURE)
        return lambda: engine.analyze_sequence(request)

    def peer(k: int) -> Any:
        return manager_run(lmp, lm, lambda: [est.MonteCarloSequenceEntropy(), est.LexicalSimilarity()], [QUESTION],
                           new_tokens=SAMPLE_TOKENS, samples=k) if est is not None else None
    return [harness.Comparison(f"{k} samples", "lm-polygraph", uqlens(k), peer(k), unavailable=missing,
                               warm_up=k == sizes[0]) for k in sizes]


def dataset_sweep(engine: Engine, lm: LoadedTextModel, sizes: list[int]) -> list[harness.Comparison]:
    """run_audit over N bundled questions against lm-polygraph's UEManager over the same questions."""
    lmp, est, missing = import_polygraph()
    questions = [q.question for q in load_dataset("builtin-qa").qa]

    def uqlens(n: int) -> Callable[[], Any]:
        request = AuditRequest(model=lm.spec.id, methods=["sequence_prob", "perplexity", "mean_entropy"], limit=n,
                               batch_size=DATASET_BATCH, max_new_tokens=DATASET_TOKENS)
        return lambda: run_audit(request, engine, AuditStore("sqlite://"))  # a fresh in-memory store each run

    def peer(n: int) -> Any:
        estimators = lambda: [est.MaximumSequenceProbability(), est.Perplexity(), est.MeanTokenEntropy()]  # noqa: E731
        return manager_run(lmp, lm, estimators, questions[:n], new_tokens=DATASET_TOKENS,
                           batch_size=DATASET_BATCH) if est is not None else None
    return [harness.Comparison(f"{n} questions", "lm-polygraph", uqlens(n), peer(n), unavailable=missing,
                               warm_up=n == sizes[0]) for n in sizes]


def plot(results: list[harness.Result], sizes: list[int], sweep: str, title: str, path: Path) -> None:
    """Time and peak memory against size, UQ Lens and the peer, as a PNG (log-log time axis)."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (time_axis, memory_axis) = plt.subplots(1, 2, figsize=(10, 4))
    for label, seconds, mib in (("UQ Lens", "uqlens_s", "uqlens_mib"), (results[0].peer, "peer_s", "peer_mib")):
        points = [(n, getattr(r, seconds), getattr(r, mib)) for n, r in zip(sizes, results)]
        time_axis.plot([n for n, s, _ in points if s is not None], [s for _, s, _ in points if s is not None],
                       marker="o", label=label)
        memory_axis.plot([n for n, _, m in points if m is not None], [m for _, _, m in points if m is not None],
                         marker="o", label=label)
    time_axis.set(xscale="log", yscale="log", xlabel=UNITS[sweep], ylabel="seconds", title="time")
    time_axis.yaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
    memory_axis.set(xscale="log", xlabel=UNITS[sweep], ylabel="peak memory beyond the start, MiB",
                    title="peak memory")
    time_axis.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    for axis in (time_axis, memory_axis):
        axis.minorticks_off()
        axis.set_xticks(sizes, [str(n) for n in sizes])
        axis.grid(alpha=0.3)
        axis.legend()
    figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main() -> int:
    parser = harness.parser(__doc__)
    parser.add_argument("--sweep", choices=sorted(SWEEPS), required=True)
    parser.add_argument("--sizes", type=int, nargs="+", help="override the sweep's sizes")
    parser.set_defaults(repeats=1)
    builders = {"length": length_sweep, "samples": samples_sweep, "dataset": dataset_sweep}

    def build(args: argparse.Namespace) -> tuple[dict[str, Any], list[harness.Comparison]]:
        engine, lm = workload.load(args)
        sizes = args.sizes or (QUICK_SWEEPS if args.quick else SWEEPS)[args.sweep]
        return ({"benchmark": f"bench_scale_{args.sweep}", "model": lm.spec.id, "device": lm.device,
                 "dtype": str(lm.model.dtype), "sweep": args.sweep, "sizes": sizes, "unit": UNITS[args.sweep]},
                builders[args.sweep](engine, lm, sizes))

    done = harness.run(parser, build)
    report, png = done.report, done.path.with_suffix(".png")
    plot(done.results, report["sizes"], report["sweep"], f"{report['benchmark']}: {report['model']} on "
         f"{report['machine']} ({report['device']}), {report['date']}", png)
    print(f"plot written to {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
