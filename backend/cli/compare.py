"""`python -m backend compare`: two models, or one model at two settings, on the same prompt, each scoring the
other's answer.

    python -m backend compare "PROMPT" [--models A [B]] [--temperatures T [T]] [--chat-template on|off [on|off]]
        [--max-new-tokens N] [--sample] [--seed N] [--answer TEXT] [--json]

Each option takes one value (both sides) or two (side A, side B). JSON: the TextComparison (first, second; each
with analysis, scored_by_other, alignment, differences, own_logprob, other_logprob).
"""
from __future__ import annotations

import argparse
import json
from typing import Sequence, TypeVar

from backend.errors import UserInputError
from backend.schemas import DEFAULT_TEXT_MODEL, TextRequest
from backend.schemas.compare import ComparedSide, TextComparison, TextComparisonRequest
from backend.schemas.text import DEFAULT_MAX_NEW_TOKENS

NAME = "compare"
SWITCH = {"on": True, "off": False}
Value = TypeVar("Value")


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the command and its options."""
    compare = commands.add_parser(NAME, help="two models or settings on one prompt, each scoring the other's answer")
    compare.add_argument("prompt")
    compare.add_argument("--models", nargs="+", default=[DEFAULT_TEXT_MODEL], metavar="ID",
                         help="one model for both sides, or side A's and side B's (see `models`)")
    compare.add_argument("--temperatures", nargs="+", type=float, default=[1.0], metavar="T")
    compare.add_argument("--chat-template", nargs="+", choices=sorted(SWITCH), default=["on"], metavar="on|off")
    compare.add_argument("--max-new-tokens", type=int, default=DEFAULT_MAX_NEW_TOKENS)
    compare.add_argument("--sample", dest="do_sample", action="store_true", help="sample instead of greedy decoding")
    compare.add_argument("--seed", type=int, default=0)
    compare.add_argument("--answer", help="both sides score this answer instead of generating")
    compare.add_argument("--json", action="store_true", help="print one JSON object")


def two_sides(values: Sequence[Value], option: str) -> tuple[Value, Value]:
    """(side A's, side B's) from one value (both) or two; UserInputError for more."""
    if len(values) > 2:
        raise UserInputError(f"{option} takes one value (both sides) or two (side A, side B), not {len(values)}")
    return values[0], values[-1]


def comparison_request(args: argparse.Namespace) -> TextComparisonRequest:
    """The request the options describe."""
    models = two_sides(args.models, "--models")
    temperatures = two_sides(args.temperatures, "--temperatures")
    templates = two_sides(args.chat_template, "--chat-template")
    sides = [TextRequest(model=model, prompt=args.prompt, answer=args.answer, chat_template=SWITCH[template],
                         max_new_tokens=args.max_new_tokens, do_sample=args.do_sample, temperature=temperature,
                         seed=args.seed)
             for model, temperature, template in zip(models, temperatures, templates)]
    return TextComparisonRequest(first=sides[0], second=sides[1])


def side_table(label: str, side: ComparedSide) -> list[str]:
    """Lines: the side's settings, answer, totals, then each token's own and other log p and the difference."""
    a = side.analysis
    other = "-" if side.other_logprob is None else f"{side.other_logprob:.3f}"
    lines = [f"{label}: {a.model}, T {a.temperature:g}, chat template {'on' if a.chat_template else 'off'}",
             f"  answer: {a.generated_text}",
             f"  log p of the answer: own {side.own_logprob:.3f}, other side {other} ({side.alignment} aligned)",
             f"  {'token':<18} {'own':>8} {'other':>8} {'own-other':>10}"]
    for d in side.differences:
        values = ["-" if v is None else f"{v:.3f}" for v in (d.other_logprob, d.difference)]
        lines.append(f"  {d.text!r:<18} {d.own_logprob:>8.3f} {values[0]:>8} {values[1]:>10}")
    return lines


def format_table(result: TextComparison) -> str:
    """Both sides, one after the other."""
    return "\n".join(side_table("A", result.first) + [""] + side_table("B", result.second)
                     + ["", f"{result.seconds:.2f} s"])


def run(args: argparse.Namespace) -> int:
    """Run the `compare` command; returns the exit status."""
    from transformers.utils import logging as hf_logging

    from backend.clients.local import LocalClient

    hf_logging.disable_progress_bar()
    result = LocalClient().compare_text(comparison_request(args))
    print(json.dumps(result.model_dump(mode="json")) if args.json else format_table(result))
    return 0
