"""The HTML report's answer-or-abstain section: per method, the threshold Learn-Then-Test certified on the
calibration split, what it does on the held-out split, the guarantee in words and what it assumes, or why none can
be given; the seeded split shown item by item. Every string is HTML-escaped."""
from __future__ import annotations

import html

from backend.decisions.selective import percent
from backend.schemas.audit import AuditResult
from backend.schemas.selective import SelectiveDecision


def _rate(value) -> str:
    return "–" if value is None else f"{value:.1%}"


def decision_rows(decision: SelectiveDecision) -> list[tuple[str, str]]:
    """(label, value) rows of one method's table, as plain text."""
    if decision.refused:
        return [("refused", decision.refused), ("calibration / held-out items",
                                                 f"{decision.n_calibration} / {decision.n_held_out}")]
    errors = decision.held_out_error
    return [
        ("answer when", decision.answer_if or "–"),
        ("threshold (score units)", f"{decision.threshold:.6g}"),
        ("calibration", f"{decision.calibration_answered} of {decision.n_calibration} answered "
                        f"({_rate(decision.calibration_coverage)}), {decision.calibration_errors} wrong; binomial "
                        f"p = {decision.calibration_p_value:.4f} <= delta = {decision.delta:g}"),
        ("held-out coverage", f"{_rate(decision.held_out_coverage)} ({decision.held_out_answered} of "
                              f"{decision.n_held_out} answered)"),
        ("held-out error", f"{_rate(errors)} ({decision.held_out_errors} of {decision.held_out_answered} answers "
                           f"wrong)" if errors is not None else "– (no held-out item is answered)"),
        ("thresholds tested", str(decision.thresholds_tested)),
        ("guarantee", decision.guarantee or "–"),
    ]


def _split(decision: SelectiveDecision) -> str:
    if not decision.calibration_indices:
        return ""
    return (f"<details><summary>The split (seed {decision.seed}, calibration fraction "
            f"{decision.calibration_fraction:g})</summary><p>Calibration items ({decision.n_calibration}): "
            f"{', '.join(map(str, decision.calibration_indices))}</p><p>Held-out items ({decision.n_held_out}): "
            f"{', '.join(map(str, decision.held_out_indices))}</p></details>")


def decision_table(decision: SelectiveDecision) -> str:
    """One method's heading, table and split."""
    rows = "".join(f"<tr><th>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
                   for label, value in decision_rows(decision))
    return f"<h3><code>{html.escape(decision.method)}</code></h3><table class='selective'>{rows}</table>" + \
        _split(decision)


def selective_section(result: AuditResult) -> str:
    """The whole section (an h2 and a table per method); empty for a result without decisions."""
    if not result.selective:
        return ""
    first = next(iter(result.selective.values()))
    return (f"<h2>Answer or abstain</h2><p>Answer only when a method's score passes a threshold chosen so that at "
            f"most alpha = {percent(first.alpha)} of the answers given are wrong, with probability 1 - delta = "
            f"{percent(1 - first.delta)}. The threshold is chosen on a seeded calibration split (seed {first.seed}, "
            f"{first.calibration_fraction:g} of the items) and checked on the rest. "
            f"{html.escape(first.procedure)}.</p><p><strong>Assumption:</strong> "
            f"{html.escape(first.assumption)}</p>" + "".join(decision_table(d) for d in result.selective.values()))
