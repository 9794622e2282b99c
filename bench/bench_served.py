"""Served models (issue 16): in-process against vLLM against lm-polygraph, ratios measured in one run.

    .venv-bench/bin/python bench/bench_served.py [--vllm-url http://127.0.0.1:8000/v1] [--parts sampling audit demo]
        [--samples 8] [--new-tokens 24] [--audit-items 50 200] [--concurrency 16] [--users 16] [--demo-requests 4]
        [--repeats 3] [--audit-repeats 1] [--demo-repeats 2] [--threads N] [--device cpu|cuda] [--json OUT.json]

Without --vllm-url (or UQLENS_TEST_VLLM_URL) it starts vLLM's CPU build from .venv-vllm (`make vllm`) serving the
default model's safetensors folder (tests/vllm_server.py) and stops it at the end. The served copy is registered as
model id "served" (UQLENS_TEXT_MODELS "served=openai+URL#smollm2&vocab_size=..."). It takes about 10-15 minutes on
a 2-core machine with the defaults, so it is not in `make bench`. Parts:
  sampling  a K-sample analysis (predictive entropy, lexical similarity, semantic entropy; K = --samples at
            temperature 0.7) of one question: backend.engine.Engine.analyze_sequence on the in-process model, the
            same SequenceRequest on the served model, and lm-polygraph's UEManager doing the same K-sample run with
            the same model object (its semantic entropy needs DeBERTa from the Hugging Face hub: left out there),
            and lm-polygraph's BlackboxModel (greybox: its OpenAI client on the same engine);
  audit     an N-question audit (the bundled questions, cycled up to N; token methods) in-process
            (backend.audit.runner.run_audit, as `python -m backend audit` runs it) against the served model with
            --concurrency requests in flight, against lm-polygraph's UEManager over the same questions in batches
            on the in-process model and one request at a time on the engine (greybox);
  demo      the class demo: --users threads each sending --demo-requests greedy Text-page requests (distinct
            prompts, --new-tokens tokens) at once to `python -m backend serve`, once on the in-process model and
            once on the served model: answers per second, p50 / p95 latency and the ratio.
Every side runs once to warm up, then the sides take turns for the repeats (medians reported). ratio = side /
baseline (in-process): below 1 means the side is faster. Prints the tables and writes JSON
(artifacts/bench/bench_served.json unless --json).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Callable, Optional

import torch

import harness
import served_demo
from served_polygraph import SAMPLE_TEMPERATURE, Polygraph, load_polygraph
from served_measure import Rounds, cycled, interleaved, ratio, side_rows, write_cycled_questions
from backend.audit.datasets import BUILTIN_QA_PATH
from backend.audit.runner import run_audit
from backend.audit.store import AuditStore
from backend.engine import Engine
from backend.schemas import DEFAULT_EMBEDDING_MODEL, DEFAULT_TEXT_MODEL, SequenceRequest, TextRequest
from backend.schemas.audit import AuditRequest

SERVED_ID = "served"
SERVED_NAME = "smollm2"
QUESTION = "Name a famous scientist and say what they discovered."
SAMPLING_METHODS = ["predictive_entropy", "lexical_similarity", "semantic_entropy"]
AUDIT_METHODS = ["mean_logprob", "mean_entropy", "perplexity"]
TOKEN_ESTIMATORS = ["MaximumSequenceProbability", "Perplexity", "MeanTokenEntropy"]
AUDIT_BATCH = 8
BASELINE = "in-process"
SERVED = "vLLM"
PEER = "lm-polygraph"
PEER_SERVED = "lm-polygraph+vLLM"


def served_entry(url: str, vocab_size: int, model_id: str = SERVED_ID, name: str = SERVED_NAME) -> str:
    """The UQLENS_TEXT_MODELS entry registering the served model."""
    return f"{model_id}=openai+{url.rstrip('/')}#{name}&vocab_size={vocab_size}"


def with_entry(existing: str, entry: str) -> str:
    """UQLENS_TEXT_MODELS with entry added after what it already holds ("a;b")."""
    return f"{existing};{entry}" if existing.strip() else entry


def bundled_rows() -> list[dict]:
    """The bundled QA questions as JSON rows."""
    return [json.loads(line) for line in BUILTIN_QA_PATH.read_text(encoding="utf-8").splitlines() if line.strip()]


def sequence_request(model: str, samples: int, new_tokens: int) -> SequenceRequest:
    """The K-sample analysis both UQ Lens sides run (embedding meaning model: no NLI model needed)."""
    return SequenceRequest(text=TextRequest(model=model, prompt=QUESTION, max_new_tokens=new_tokens),
                           methods=SAMPLING_METHODS, samples=samples, sample_temperature=SAMPLE_TEMPERATURE,
                           embedding_model=DEFAULT_EMBEDDING_MODEL, meaning_model=DEFAULT_EMBEDDING_MODEL)


def sampling_part(args: argparse.Namespace, engine: Engine, polygraph: Polygraph) -> list[dict]:
    """Rows of the K-sample analysis: in-process, vLLM, lm-polygraph."""
    local = sequence_request(args.model, args.samples, args.new_tokens)
    served = sequence_request(SERVED_ID, args.samples, args.new_tokens)
    sides = {BASELINE: lambda: engine.analyze_sequence(local), SERVED: lambda: engine.analyze_sequence(served)}
    unavailable, notes = {}, {BASELINE: "Engine.analyze_sequence, K samples in one batched generate call",
                              SERVED: "the same SequenceRequest on the served model (K samples: n = K in one "
                                      "request)"}
    if polygraph.ready:
        sides[PEER] = polygraph.manager(["MonteCarloSequenceEntropy", "LexicalSimilarity"], [QUESTION],
                                        samples=args.samples)
        sides[PEER_SERVED] = polygraph.served_manager(["LexicalSimilarity"], [QUESTION], samples=args.samples,
                                                      temperature=SAMPLE_TEMPERATURE)
        notes[PEER] = ("UEManager, WhiteboxModel on the same model object, predictive entropy + lexical similarity "
                       "(its semantic entropy needs microsoft/deberta-large-mnli from the hub, unreachable here)")
        notes[PEER_SERVED] = ("UEManager, BlackboxModel (greybox) on the same engine: an answer and n=K samples, "
                              "lexical similarity only (its OpenAI path keeps no log-probabilities for n > 1, which "
                              "predictive entropy needs); its answer is sampled at the same temperature")
    else:
        unavailable[PEER] = unavailable[PEER_SERVED] = polygraph.missing
    rounds = interleaved(sides, args.repeats)
    return side_rows(f"K={args.samples} sampling analysis", rounds, BASELINE, unavailable, notes)


def fresh_store(folder: Path) -> AuditStore:
    """An empty audit store (its own SQLite file), so that no run resumes an earlier one."""
    return AuditStore(f"sqlite:///{folder / f'audit-{uuid.uuid4().hex}.sqlite'}")


def audit_request(dataset: Path, model: str, n: int, new_tokens: int, **extra: Any) -> AuditRequest:
    """The audit both UQ Lens sides run: the first n questions of dataset, token methods, greedy answers."""
    return AuditRequest(dataset=str(dataset), model=model, methods=AUDIT_METHODS, limit=n, batch_size=AUDIT_BATCH,
                        max_new_tokens=new_tokens, **extra)


def audit_part(args: argparse.Namespace, engine: Engine, polygraph: Polygraph, folder: Path) -> list[dict]:
    """Rows of the N-question audits, each N: in-process, vLLM with concurrency, lm-polygraph on each; one warm-up round
    of AUDIT_BATCH questions before the first N."""
    rows, questions = bundled_rows(), [row["question"] for row in bundled_rows()]
    sizes = sorted(set(args.audit_items) | {AUDIT_BATCH})
    files = {n: write_cycled_questions(rows, n, folder / f"qa-{n}.jsonl") for n in sizes}
    notes = {BASELINE: f"run_audit as `python -m backend audit` (batches of {AUDIT_BATCH}, grading included)",
             SERVED: f"run_audit on the served model, {args.concurrency} requests in flight (grading included)"}
    unavailable = {} if polygraph.ready else {PEER: polygraph.missing, PEER_SERVED: polygraph.missing}
    if polygraph.ready:
        notes[PEER] = (f"UEManager over the same questions in batches of {AUDIT_BATCH}, MaximumSequenceProbability, "
                       f"Perplexity, MeanTokenEntropy (no grading)")
        notes[PEER_SERVED] = ("UEManager, BlackboxModel (greybox) on the same engine, the same estimators, one "
                              "request at a time (its OpenAI path has no concurrency; entropy from the top-5), "
                              "no grading")

    def sides(n: int) -> dict[str, Callable[[], Any]]:
        found = {BASELINE: lambda: run_audit(audit_request(files[n], args.model, n, args.new_tokens), engine,
                                             fresh_store(folder)),
                 SERVED: lambda: run_audit(audit_request(files[n], SERVED_ID, n, args.new_tokens,
                                                         concurrency=args.concurrency), engine, fresh_store(folder))}
        if polygraph.ready:
            found[PEER] = polygraph.manager(TOKEN_ESTIMATORS, cycled(questions, n), batch_size=AUDIT_BATCH)
            found[PEER_SERVED] = polygraph.served_manager(TOKEN_ESTIMATORS, cycled(questions, n))
        return found

    interleaved(sides(AUDIT_BATCH), repeats=0)
    found = []
    for n in args.audit_items:
        rounds = interleaved(sides(n), args.audit_repeats, warm_up=False)
        found += side_rows(f"audit of {n} questions", rounds, BASELINE, unavailable, notes, work=n)
    return found


def demo_envs(args: argparse.Namespace, folder: Path) -> dict[str, dict[str, str]]:
    """The service environment of each demo side: its own database; the in-process one queues every user
    (UQLENS_MAX_WAITING; its default, 4, refuses most of a class) behind the model's one running slot; the
    served one admits every user at once (UQLENS_MAX_SERVED_RUNNING / _WAITING, the served queue)."""
    threads = {"OMP_NUM_THREADS": str(args.threads), "MKL_NUM_THREADS": str(args.threads)} if args.threads else {}
    return {BASELINE: {**threads, "UQLENS_MAX_WAITING": str(2 * args.users),
                       "UQLENS_DATABASE_URL": f"sqlite:///{folder / 'demo-local.sqlite'}"},
            SERVED: {**threads, "UQLENS_MAX_SERVED_RUNNING": str(args.users),
                     "UQLENS_MAX_SERVED_WAITING": str(2 * args.users),
                     "UQLENS_DATABASE_URL": f"sqlite:///{folder / 'demo-served.sqlite'}"}}


def demo_part(args: argparse.Namespace, folder: Path) -> list[dict]:
    """Rows of the class demo: both services started at once, one warm-up round (one request per user), then
    the sides take turns for --demo-repeats rounds; medians of each round's figures."""
    envs = demo_envs(args, folder)
    questions = [row["question"] for row in bundled_rows()]
    models = {BASELINE: args.model, SERVED: SERVED_ID}
    with ExitStack() as stack:
        urls = {side: stack.enter_context(served_demo.service(env)) for side, env in envs.items()}

        def sides(per_user: int) -> dict[str, Callable[[], Any]]:
            prompts = served_demo.user_prompts(questions, args.users, per_user)
            return {side: (lambda side=side: served_demo.run_users(urls[side], models[side], prompts,
                                                                    args.new_tokens)) for side in urls}
        interleaved(sides(1), repeats=0)
        rounds: Rounds = interleaved(sides(args.demo_requests), args.demo_repeats, warm_up=False)
    return demo_rows(rounds, envs, args.users)


def demo_rows(rounds: Rounds, envs: dict[str, dict[str, str]], users: int) -> list[dict]:
    """One row per demo side: the medians over its rounds of answers per second and p50 / p95 latency, their
    ratios to the baseline's, the 429 refusals retried and the service limits it ran under."""
    medians = {side: {key: statistics.median(getattr(run.latency, key) for run in runs)
                      for key in ("answers_per_s", "p50_s", "p95_s", "max_s")} for side, runs in rounds.outputs.items()}
    base = medians[BASELINE]
    return [{"part": f"class demo, {users} users", "side": side, **found,
             "answers": [run.latency.answers for run in rounds.outputs[side]],
             "throughput_ratio": ratio(found["answers_per_s"], base["answers_per_s"]),
             "p95_ratio": ratio(found["p95_s"], base["p95_s"]),
             "refusals_retried": sum(run.refusals for run in rounds.outputs[side]),
             "first_error": next((run.error for run in rounds.outputs[side] if run.error), ""),
             "round_seconds": rounds.seconds[side],
             "service_env": {k: v for k, v in envs[side].items() if k.startswith("UQLENS_MAX")}}
            for side, found in medians.items()]


def vllm_url(args: argparse.Namespace, stack: ExitStack, engine: Engine) -> str:
    """--vllm-url, else UQLENS_TEST_VLLM_URL, else a vLLM started here for the run (tests/vllm_server.py)."""
    if args.vllm_url:
        return args.vllm_url.rstrip("/")
    from backend.models.registry import build_registry
    from backend.models.text_loader import prepare_text_model
    from tests.vllm_server import vllm_server

    folder = Path(prepare_text_model(build_registry().get(DEFAULT_TEXT_MODEL), engine.cache_dir))
    print(f"starting vLLM on {folder} (about 100 s) ...", flush=True)
    return stack.enter_context(vllm_server(folder))


def model_vocab_size(engine: Engine, model: str) -> int:
    """The logits width of the in-process model (the served copy has the same)."""
    return int(engine.text_model(model).model.config.vocab_size)


def fmt(value: Optional[float], digits: int = 2) -> str:
    """A number for a table, '-' when missing."""
    return "-" if value is None else f"{value:.{digits}f}"


def table(rows: list[dict]) -> str:
    """The timed rows as a table with numbered notes."""
    head = f"{'part':<30} {'side':<17} {'median s':>9} {'ratio':>6} {'items/s':>8}  note"
    lines, notes = [head, "-" * len(head)], []
    for r in rows:
        text = f"unavailable: {r['unavailable']}" if r["unavailable"] else r["note"]
        mark = ""
        if text:
            notes.append(text)
            mark = f"[{len(notes)}]"
        lines.append(f"{r['part'][:30]:<30} {r['side']:<17} {fmt(r['median_s']):>9} "
                     f"{fmt(r['ratio_to_baseline']):>6} {fmt(r['per_s']):>8}  {mark}")
    return "\n".join(lines + [""] + [f"[{i}] {n}" for i, n in enumerate(notes, 1)])


def demo_table(rows: list[dict]) -> str:
    """The class-demo rows as a table."""
    head = (f"{'part':<22} {'side':<11} {'answers/s':>9} {'ratio':>6} {'p50 s':>6} {'p95 s':>6} {'ratio':>6} "
            f"{'429s':>5}  limits")
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r['part'][:22]:<22} {r['side']:<11} {fmt(r['answers_per_s']):>9} "
                     f"{fmt(r['throughput_ratio']):>6} {fmt(r['p50_s']):>6} {fmt(r['p95_s']):>6} "
                     f"{fmt(r['p95_ratio']):>6} {r['refusals_retried']:>5}  {r['service_env']}"
                     + (f"  error: {r['first_error'][:60]}" if r["first_error"] else ""))
    return "\n".join(lines)


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    """The command line."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--vllm-url", default=os.environ.get("UQLENS_TEST_VLLM_URL"),
                   help="base URL (ending /v1) of a vLLM serving the default model as 'smollm2' (default: "
                        "UQLENS_TEST_VLLM_URL, else one is started from .venv-vllm)")
    p.add_argument("--parts", nargs="+", default=["sampling", "audit", "demo"], choices=["sampling", "audit", "demo"])
    p.add_argument("--model", default=DEFAULT_TEXT_MODEL, help="the in-process model (the one vLLM serves)")
    p.add_argument("--device", default=None, help="in-process device: cpu, cuda (default: the engine's choice)")
    p.add_argument("--samples", type=int, default=8, help="K sampled answers")
    p.add_argument("--new-tokens", type=int, default=24, help="largest answer and sample, in tokens")
    p.add_argument("--audit-items", type=int, nargs="+", default=[50, 200], help="N questions per audit")
    p.add_argument("--concurrency", type=int, default=16, help="served audit requests in flight")
    p.add_argument("--users", type=int, default=16, help="concurrent Text-page users of the class demo")
    p.add_argument("--demo-requests", type=int, default=4, help="answers each demo user asks for per round")
    p.add_argument("--repeats", type=int, default=3, help="timed rounds of the sampling part")
    p.add_argument("--audit-repeats", type=int, default=1, help="timed rounds of each audit size")
    p.add_argument("--demo-repeats", type=int, default=2, help="timed rounds of the class demo")
    p.add_argument("--threads", type=int, help="torch CPU threads here and in the demo's services")
    p.add_argument("--no-polygraph", action="store_true", help="leave lm-polygraph out")
    p.add_argument("--json", type=Path, default=harness.ROOT / "artifacts" / "bench" / "bench_served.json")
    return p.parse_args(argv)


def main(argv: Optional[list[str]] = None) -> int:
    """Run the chosen parts, print their tables, write the JSON report."""
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="uqlens-bench-served-")))
        probe = Engine(device=args.device)
        url = vllm_url(args, stack, probe)
        os.environ["UQLENS_TEXT_MODELS"] = with_entry(os.environ.get("UQLENS_TEXT_MODELS", ""),
                                                      served_entry(url, model_vocab_size(probe, args.model)))
        engine = Engine(device=args.device)
        lm = engine.text_model(args.model)
        polygraph = load_polygraph(lm, url, SERVED_NAME, args.new_tokens, args.no_polygraph)
        rows, demo = [], []
        if "sampling" in args.parts:
            print("measuring: sampling ...", flush=True)
            rows += sampling_part(args, engine, polygraph)
        if "audit" in args.parts:
            print("measuring: audits ...", flush=True)
            rows += audit_part(args, engine, polygraph, folder)
        if "demo" in args.parts:
            print("measuring: class demo ...", flush=True)
            demo = demo_part(args, folder)
    report = {"benchmark": "bench_served", **harness.environment(lm.device), "model": args.model,
              "vllm_url": url, "served_model": SERVED_NAME, "options": {k: (str(v) if isinstance(v, Path) else v)
                                                                        for k, v in vars(args).items()},
              "time_definition": "wall-clock seconds, median of the timed rounds after a warm-up; ratio = side / "
                                 "in-process (below 1: the side is faster)", "results": rows, "demo": demo}
    print(f"\nbench_served: {args.model} in-process on {report['machine']} against vLLM at {url}, {report['date']}\n")
    if rows:
        print(table(rows))
    if demo:
        print("\n" + demo_table(demo))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, default=str))
    print(f"\nwritten to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
