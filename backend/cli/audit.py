"""`python -m backend audit`: a calibration audit over a dataset, resumable, with a progress bar on stderr.

  audit --dataset builtin-qa --methods mean_logprob,semantic_entropy --limit 50 --json OUT.json --html REPORT.html
  audit --dataset images:photos.zip --model efficientnet-lite0 --methods softmax,mc_dropout_mi --json OUT.json
  audit --dataset builtin-qa --model SMALL --defer-to LARGE --json OUT.json   (a cascade: `cascade` in the JSON)
  audit --methods mean_logprob,relative_confidence --limit 100 --estimate   (its comparisons' cost, then exit)
  audit --dataset scores.csv --methods p --alpha 0.05 --delta 0.1 --json OUT.json   (answer or abstain: `selective`)

Running the same command again after a kill or Ctrl-C resumes: finished items are kept in the database. So it
does after a served model's engine went away mid-audit: the command then says how many items are kept and exits
with status 4 (no traceback).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from backend.cli.selective_options import add_selective_arguments, selective_fields, selective_lines
from backend.schemas import DEFAULT_IMAGE_MODEL, DEFAULT_TEXT_MODEL
from backend.schemas.audit import BUILTIN_DIGITS, BUILTIN_QA, AuditRequest, AuditResult

NAME = "audit"
EXIT_UNAVAILABLE = 4  # a serving engine (or the database) went away mid-audit; running it again resumes
DEFAULT_METHODS = {"text": "mean_logprob", "classifier": "softmax,predictive_entropy,margin"}


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the command and its options."""
    audit = commands.add_parser(NAME, help="calibration and error-detection audit over a dataset")
    audit.add_argument("--dataset", default=BUILTIN_QA,
                       help="builtin-qa, builtin-digits, a .jsonl/.csv path (questions with answers, a "
                            "'response' to grade as given and its 'claims' labelled right or wrong, or "
                            "precomputed scores with a 'correct' column), or images:PATH (a .zip or folder whose "
                            "sub-folders are class labels, e.g. tabby/001.jpg)")
    audit.add_argument("--methods", help=f"comma-separated method names (default: {DEFAULT_METHODS['text']} for "
                                         f"questions, {DEFAULT_METHODS['classifier']} for images)")
    audit.add_argument("--model", help=f"registered model id (default: {DEFAULT_TEXT_MODEL} for questions, "
                                       f"{DEFAULT_IMAGE_MODEL} for images)")
    audit.add_argument("--limit", type=int, help="audit the first N items only")
    audit.add_argument("--batch-size", type=int, default=8)
    audit.add_argument("--concurrency", type=int, default=8,
                       help="requests in flight at once to a served model (1-64; an in-process model answers "
                            "--batch-size questions per generate call); it does not change the results or the "
                            "audit id")
    audit.add_argument("--max-new-tokens", type=int, default=24)
    audit.add_argument("--samples", type=int, default=5,
                       help="K samples for sampling-based methods, or K passes for MC dropout / TTA on images")
    audit.add_argument("--seed", type=int, default=0)
    audit.add_argument("--grading-threshold", type=float, default=0.8,
                       help="cosine similarity for the embedding fallback of the grading")
    audit.add_argument("--defer-to", dest="defer_to", metavar="MODEL",
                       help="a cascade: audit MODEL on the same items too (its own resumable audit) and add "
                            "`cascade`: accuracy vs deferral rate when the least sure answers go to MODEL")
    audit.add_argument("--fresh", action="store_true", help="forget finished items of this audit (and of the "
                                                            "--defer-to audit) and start again")
    audit.add_argument("--estimate", action="store_true",
                       help="print what relative_confidence's comparisons still to compute will cost (passes, and "
                            "seconds from one question timed on the model; printed before every audit that asks "
                            "for it), then exit without running")
    audit.add_argument("--json", dest="json_path", help="write the result as JSON to this file ('-' = stdout)")
    audit.add_argument("--html", dest="html_path", help="write a self-contained HTML report to this file")
    add_selective_arguments(audit)


def build_request(args: argparse.Namespace) -> AuditRequest:
    """The AuditRequest of the options, with the model and methods defaulting by the kind of dataset."""
    from backend.audit.datasets import is_image_dataset

    images = is_image_dataset(args.dataset)
    classifier = images or args.dataset == BUILTIN_DIGITS
    methods = args.methods or DEFAULT_METHODS["classifier" if classifier else "text"]
    return AuditRequest(dataset=args.dataset, methods=methods.split(","),
                        model=args.model or (DEFAULT_IMAGE_MODEL if images else DEFAULT_TEXT_MODEL), limit=args.limit,
                        batch_size=args.batch_size, concurrency=args.concurrency,
                        max_new_tokens=args.max_new_tokens, samples=args.samples,
                        seed=args.seed, grading_threshold=args.grading_threshold,
                        defer_to=getattr(args, "defer_to", None), **selective_fields(args))


def result_json(result: AuditResult) -> dict:
    """The JSON written by --json: n, accuracy, metrics by method, items, and the settings and ids (and, for
    classifier audits, label_issues)."""
    data = result.model_dump(mode="json")
    return {"n": data["n"], "accuracy": data["accuracy"], "metrics": data["metrics"], "items": data["items"],
            **{k: v for k, v in data.items() if k not in ("n", "accuracy", "metrics", "items")}}


def format_summary(result: AuditResult) -> str:
    """A short table for the terminal."""
    lines = [f"audit {result.audit_id}: {result.n} items of {result.dataset_id}, accuracy {result.accuracy:.3f}",
             f"{'method':<24}{'ECE':>8}{'Brier':>8}{'AUROC':>8}{'AURC':>8}{'PRR':>8}"]

    def cell(value) -> str:
        return f"{value:>8.3f}" if value is not None else f"{'-':>8}"

    for name, m in result.metrics.items():
        lines.append(f"{name:<24}{cell(m.ece)}{cell(m.brier)}{cell(m.auroc)}{cell(m.aurc)}{cell(m.prr)}")
    if result.n_claims:
        lines.append(f"claims: {result.n_claims} labelled, {result.claim_accuracy:.3f} right; each claim one unit:")
        for name, m in result.claim_metrics.items():
            lines.append(f"{'  ' + name:<24}{cell(m.ece)}{cell(m.brier)}{cell(m.auroc)}{cell(m.aurc)}{cell(m.prr)}")
    if result.label_issues is not None:
        lines.append(result.label_issues.summary())
    lines += selective_lines(result)
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run the `audit` command; returns the exit status."""
    from tqdm import tqdm
    from transformers.utils import logging as hf_logging

    from backend.audit.cascade_run import audits_to_run, format_cascade
    from backend.audit.report import render_report
    from backend.audit.runner import check_models, plan_audit, run_audit
    from backend.audit.store import AuditStore
    from backend.decisions.relative_confidence import METHOD as RELATIVE
    from backend.decisions.relative_cost import estimate_relative_cost, format_cost
    from backend.engine import Engine
    from backend.errors import BackendBusyError, BackendUnavailableError

    hf_logging.disable_progress_bar()
    request = build_request(args)
    store, engine = AuditStore(), Engine()
    audits = audits_to_run(request)
    plans = [plan_audit(each) for each in audits]
    for each, plan in zip(audits, plans):
        check_models(engine, each, plan)
        if args.fresh:
            store.forget(plan.audit_id)
    for each in audits:
        if RELATIVE in each.methods:
            print(format_cost(estimate_relative_cost(each, engine, store)), file=sys.stderr)
    if args.estimate:
        return 0
    for each, plan in zip(audits, plans):
        with tqdm(total=plan.total, desc=f"audit {plan.audit_id}", unit="item", file=sys.stderr) as bar:
            def progress(done: int, total: int, _seconds_left) -> None:
                bar.update(done - bar.n)

            try:
                result = run_audit(each, engine, store, progress=progress)
            except (BackendUnavailableError, BackendBusyError) as exc:  # an engine gone mid-audit: items kept
                bar.close()
                print(f"error: {exc}", file=sys.stderr)
                return EXIT_UNAVAILABLE
    if args.json_path == "-":
        print(json.dumps(result_json(result)))
    elif args.json_path:
        Path(args.json_path).write_text(json.dumps(result_json(result), indent=1))
    if args.html_path:
        Path(args.html_path).write_text(render_report(result), encoding="utf-8")
    print(format_summary(result), file=sys.stderr if args.json_path == "-" else sys.stdout)
    if result.cascade is not None:
        print(format_cascade(result.cascade), file=sys.stderr if args.json_path == "-" else sys.stdout)
    return 0
