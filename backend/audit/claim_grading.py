"""Audits graded claim by claim: each labelled claim of a given response scored, the item's verdict, and the
calibration and error-detection numbers of the claim-level scores with every claim one unit.

A claim's scores (ClaimGrade.scores): the mean -log p, mean and max entropy of its tokens (nats, special tokens
left out; the same numbers as the Sequence page's claims table), and, when the audit runs ccp / luq, its
claim-conditioned probability and its LUQ support by the K samples (from the sequence analysis of the response
with the dataset's claims as the split). A response is right when every labelled claim is.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from backend.audit.claim_labels import ClaimLabel
from backend.audit.methods import AuditMethod
from backend.analyses.error_detection import RiskCoverage, risk_coverage
from backend.audit.summary import method_arrays, method_metrics
from backend.claims.scores import token_stats
from backend.claims.split import given_claims, token_offsets, with_token_spans
from backend.schemas.audit import AuditItem, AuditResult, ClaimGrade, MethodMetrics
from backend.schemas.sequence import ClaimScore
from backend.schemas.text import TextAnalysis
from backend.sequence.methods import METHODS

TOKEN_COST = "the response's own tokens (one scoring pass, shared)"


def _claim_score(name: str, label: str, description: str, higher_is: str, is_probability: bool,
                 method: Optional[str] = None) -> AuditMethod:
    paper = METHODS.get(method).paper if method else "token statistics of the claim's tokens"
    cost = METHODS.get(method).cost if method else TOKEN_COST
    return AuditMethod(name, label, description, paper, higher_is, is_probability, "sequence", cost, method=method)


CLAIM_SCORES: tuple[AuditMethod, ...] = (
    _claim_score("ccp", "Claim-conditioned probability", "product over the claim's tokens of P(entail) / "
                 "(P(entail) + P(contra)) among their top-k alternatives", "confident", True, "ccp"),
    _claim_score("luq_support", "LUQ support", "mean support of the claim by the K sampled answers", "confident",
                 False, "luq"),
    _claim_score("mean_neg_logprob", "Mean -log p", "mean negative log-probability of the claim's tokens (nats)",
                 "uncertain", False),
    _claim_score("mean_token_entropy", "Mean token entropy", "mean entropy of the claim's tokens (nats)",
                 "uncertain", False),
    _claim_score("max_token_entropy", "Max token entropy", "largest entropy among the claim's tokens (nats)",
                 "uncertain", False),
)
"""Every claim-level score an audit grades, in the order its tables list them."""


def claim_grades(text: TextAnalysis, labels: Sequence[ClaimLabel],
                 analysed: Sequence[ClaimScore] = ()) -> list[ClaimGrade]:
    """Each labelled claim (C,) found in the scored response text.generated_text, with its token statistics from
    text.tokens and, when the sequence analysis scored the same claims (`analysed`, C rows), their ccp and
    luq_support. UserInputError (given_claims) when a claim is not in the response."""
    answer, tokens = text.generated_text, text.tokens
    special = [t.special for t in tokens]
    spans = with_token_spans(given_claims(answer, [label.text for label in labels]),
                             token_offsets(answer, [t.text for t in tokens], special))
    logprobs, entropies = [t.logprob for t in tokens], [t.entropy for t in tokens]
    grades = []
    for n, (span, label) in enumerate(zip(spans, labels)):
        part = slice(span.token_start, span.token_end)
        scores = token_stats(logprobs[part], entropies[part], special[part])
        if n < len(analysed):
            scores.update({k: v for k, v in analysed[n].scores.items() if k in ("ccp", "luq_support")})
        grades.append(ClaimGrade(text=span.text, start=span.start, end=span.end, correct=label.correct,
                                 scores=scores))
    return grades


def claims_verdict(grades: Sequence[ClaimGrade]) -> tuple[bool, str]:
    """(right, why in one sentence): right when every labelled claim is."""
    wrong = [n for n, g in enumerate(grades, 1) if not g.correct]
    if not wrong:
        return True, f"all {len(grades)} labelled claims are right"
    listed = ", ".join(str(n) for n in wrong[:8]) + (", ..." if len(wrong) > 8 else "")
    return False, f"{len(wrong)} of {len(grades)} labelled claims are wrong (claim {listed})"


@dataclass(frozen=True)
class ClaimUnit:
    """One claim as a unit of the audit's metrics (the attributes backend.audit.summary reads of an item)."""

    scores: dict[str, Optional[float]]
    is_correct: bool
    probs: Optional[list[float]] = None
    label: Optional[int] = None


def claim_units(items: Sequence[AuditItem]) -> list[ClaimUnit]:
    """Every labelled claim of the items, in item then claim order."""
    return [ClaimUnit(scores=dict(g.scores), is_correct=g.correct) for item in items for g in item.claims or ()]


def claim_summary(items: Sequence[AuditItem], seed: int) -> tuple[int, Optional[float], dict[str, MethodMetrics]]:
    """(claims, share right or None, metrics of each claim score some claim has) over the items' claims."""
    units = claim_units(items)
    if not units:
        return 0, None, {}
    present = [m for m in CLAIM_SCORES if any(u.scores.get(m.name) is not None for u in units)]
    accuracy = float(np.mean([u.is_correct for u in units]))
    return len(units), accuracy, {m.name: method_metrics(m, units, seed) for m in present}


def claim_curves(result: AuditResult) -> dict[str, RiskCoverage]:
    """The risk-coverage curve of each claim score the audit has numbers for, with each claim one unit."""
    units = claim_units(result.items)
    return {m.name: risk_coverage(*method_arrays(units, m.name)[:2], m.higher_is) for m in CLAIM_SCORES
            if m.name in result.claim_metrics}
