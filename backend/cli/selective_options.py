"""Options of `python -m backend audit` for answering with a guarantee: --alpha, --delta, --calibration-fraction.

The JSON written by --json gains "selective": per method, the threshold Learn-Then-Test certifies on a seeded
calibration split, its coverage and error on the held-out split, the guarantee in words, or why none can be given
(see backend.decisions.selective); the terminal summary prints one line per method.
"""
from __future__ import annotations

import argparse
from typing import Callable

from backend.schemas.audit import AuditResult
from backend.schemas.selective import (ALPHA_HELP, CALIBRATION_FRACTION_HELP, DEFAULT_ALPHA,
                                       DEFAULT_CALIBRATION_FRACTION, DEFAULT_DELTA, DELTA_HELP)


def strictly_between_0_and_1(name: str) -> Callable[[str], float]:
    """An argparse type: a number strictly between 0 and 1, else an error naming the option."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number: give {name} as e.g. 0.1") from None
        if not 0.0 < value < 1.0:
            raise argparse.ArgumentTypeError(f"{name} must be strictly between 0 and 1 (got {text}), e.g. 0.1")
        return value
    return parse


def _help(text: str) -> str:
    """Help text as argparse prints it ('%' doubled: argparse formats help with %)."""
    return text.replace("%", "%%")


def add_selective_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the answer-or-abstain options on the audit command."""
    group = parser.add_argument_group("answer or abstain (selective answering with a guarantee)")
    group.add_argument("--alpha", type=strictly_between_0_and_1("--alpha"), default=DEFAULT_ALPHA,
                       help=_help(f"{ALPHA_HELP} (default {DEFAULT_ALPHA})"))
    group.add_argument("--delta", type=strictly_between_0_and_1("--delta"), default=DEFAULT_DELTA,
                       help=_help(f"{DELTA_HELP} (default {DEFAULT_DELTA})"))
    group.add_argument("--calibration-fraction", type=strictly_between_0_and_1("--calibration-fraction"),
                       default=DEFAULT_CALIBRATION_FRACTION,
                       help=_help(f"{CALIBRATION_FRACTION_HELP} (default {DEFAULT_CALIBRATION_FRACTION}; seeded by "
                                  f"--seed)"))


def selective_fields(args: argparse.Namespace) -> dict:
    """The AuditRequest fields of the options (they do not change the items, so not the audit id either)."""
    return dict(alpha=args.alpha, delta=args.delta, calibration_fraction=args.calibration_fraction)


def selective_lines(result: AuditResult) -> list[str]:
    """The summary's answer-or-abstain lines: a heading, then per method the rule, its held-out coverage and
    error, or the refusal."""
    if not result.selective:
        return []
    first = next(iter(result.selective.values()))
    lines = [f"answer or abstain: at most {first.alpha:g} wrong with probability {1 - first.delta:g} (Learn-Then-"
             f"Test on {first.n_calibration} calibration items, seed {first.seed}; checked on {first.n_held_out})"]
    for name, d in result.selective.items():
        if d.refused:
            lines.append(f"{name:<24}refused: {d.refused}")
            continue
        error = f"{d.held_out_error:.3f} ({d.held_out_errors}/{d.held_out_answered})" \
            if d.held_out_error is not None else "- (none answered)"
        lines.append(f"{name:<24}answer if {d.answer_if}: held-out coverage {d.held_out_coverage:.3f} "
                     f"({d.held_out_answered}/{d.n_held_out}), error {error}")
    return lines
