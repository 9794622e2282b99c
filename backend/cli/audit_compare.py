"""`python -m backend audit-compare`: two kept audits of one dataset (or two methods of one audit) compared on the
items both kept, with paired-bootstrap intervals of every metric difference (B - A). No model runs.

    python -m backend audit-compare AUDIT_A AUDIT_B [--method-a M] [--method-b M] [--n-boot N] [--seed S]
        [--level L] [--json OUT.json|-]
    python -m backend audit-compare --list        the kept audits, newest first (ids to compare)

The same audit twice compares two of its methods (--method-a and --method-b differ). JSON (stable keys):
`dataset_id`, `a` and `b` (audit_id, model_id, method, label, higher_is, confidence_source, kept_items, accuracy),
`paired_items`, `only_a`, `only_b`, `unscored`, `n_boot`, `seed`, `level`, `binning`, `metrics` (a list of
{name, label, better, a, b, difference, ci_low, ci_high, p_boot, excludes_zero, undefined}), `reliability` {a, b}
(edges, counts, mean_confidence, accuracy per bin), `risk_coverage` {a, b} (coverage, risk, aurc), `notes`.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from backend.errors import UserInputError
from backend.schemas.audit_compare import DEFAULT_COMPARE_RESAMPLES, AuditComparison, AuditComparisonRequest, KeptAudit

NAME = "audit-compare"


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the command and its options."""
    command = commands.add_parser(NAME, help="two kept audits of one dataset (or two methods of one) compared, "
                                             "with paired-bootstrap intervals of the metric differences")
    command.add_argument("audits", nargs="*", metavar="AUDIT", help="audit ids A and B (16 hex digits; --list "
                                                                    "shows them; the same id twice compares two of "
                                                                    "its methods)")
    command.add_argument("--method-a", help="A's method (default: its first)")
    command.add_argument("--method-b", help="B's method (default: A's when B has it, else B's first)")
    command.add_argument("--n-boot", type=int, default=DEFAULT_COMPARE_RESAMPLES, help="paired bootstrap resamples")
    command.add_argument("--seed", type=int, default=0, help="seed of the resamples")
    command.add_argument("--level", type=float, default=0.95, help="confidence level of the intervals")
    command.add_argument("--json", dest="json_path", help="write the comparison as JSON to this file ('-' = stdout)")
    command.add_argument("--list", action="store_true", help="list the kept audits and exit")


def cell(value) -> str:
    """A number as the table prints it ('-' for none)."""
    return "-" if value is None else f"{value:.4f}"


def format_table(result: AuditComparison) -> str:
    """The sides, the pairing, and one line per metric: A, B, B - A, its interval (* where it excludes 0)."""
    level = f"{result.level:.0%}"
    lines = [f"{result.a.label} (audit {result.a.audit_id})", f"{result.b.label} (audit {result.b.audit_id})",
             f"{result.paired_items} paired items of {result.dataset_id} ({result.only_a} only in A, {result.only_b} "
             f"only in B, {result.unscored} unscored); {result.n_boot} paired resamples, seed {result.seed}",
             f"{'metric':<12} {'better':>6} {'A':>9} {'B':>9} {'B - A':>9}  {level + ' CI of B - A':<22} p_boot"]
    for m in result.metrics:
        interval = f"[{cell(m.ci_low)}, {cell(m.ci_high)}]{' *' if m.excludes_zero else ''}" \
            if m.ci_low is not None else (m.undefined or "-")
        lines.append(f"{m.label:<12} {m.better:>6} {cell(m.a):>9} {cell(m.b):>9} {cell(m.difference):>9}  "
                     f"{interval:<22} {cell(m.p_boot)}")
    lines.append(f"* the interval excludes 0. Binning: {result.binning}.")
    return "\n".join(lines + result.notes)


def format_kept(kept: list[KeptAudit]) -> str:
    """One line per kept audit: id, dataset, model, methods, items kept, when."""
    if not kept:
        return "no audit is kept yet: run one (python -m backend audit ...)"
    return "\n".join(f"{k.audit_id}  {k.dataset_id}  {k.model_id}  {','.join(k.methods)}  {k.kept_items} items  "
                     f"{k.created_at}" for k in kept)


def run(args: argparse.Namespace) -> int:
    """Run the command; returns the exit status."""
    from backend.clients.local import LocalClient

    client = LocalClient()
    if args.list:
        print(format_kept(client.kept_audits()))
        return 0
    if len(args.audits) != 2:
        raise UserInputError(f"give two audit ids (A and B), not {len(args.audits)}; --list shows the kept audits")
    request = AuditComparisonRequest(audit_a=args.audits[0], audit_b=args.audits[1], method_a=args.method_a,
                                     method_b=args.method_b, n_boot=args.n_boot, seed=args.seed, level=args.level)
    result = client.compare_audits(request)
    if args.json_path == "-":
        print(result.model_dump_json())
    elif args.json_path:
        Path(args.json_path).write_text(result.model_dump_json(indent=1))
    print(format_table(result), file=sys.stderr if args.json_path == "-" else sys.stdout)
    return 0
