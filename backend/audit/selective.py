"""Answer-or-abstain decisions of an audit: backend.decisions.selective over each method's scored items, split by
the audit's seed (no model call: the items' scores and gradings are all it needs, so a page re-computes them at
any alpha and delta)."""
from __future__ import annotations

from typing import Sequence

from backend.audit.methods import AuditMethod
from backend.audit.summary import method_arrays
from backend.decisions.selective import selective_decision
from backend.schemas.audit import AuditItem, AuditMethodInfo, AuditRequest
from backend.schemas.selective import SelectiveDecision


def item_noun(items: Sequence[AuditItem]) -> str:
    """What the items are, for the guarantee's sentence: images (graded by their label: digits and labelled
    images), items (a file of precomputed scores) or questions."""
    gradings = {item.grading for item in items}
    if gradings == {"label"}:
        return "images"
    return "items" if gradings == {"given"} else "questions"


def method_decision(method: AuditMethod | AuditMethodInfo, items: Sequence[AuditItem], *, alpha: float, delta: float,
                    seed: int, calibration_fraction: float) -> SelectiveDecision:
    """The decision of one method over the items that have its score (a person's override counts as the label)."""
    score, correct, kept = method_arrays(items, method.name)
    return selective_decision(score, correct, method.higher_is, alpha, delta, method=method.name, seed=seed,
                              calibration_fraction=calibration_fraction, item_indices=[items[i].index for i in kept],
                              noun=item_noun(items))


def audit_decisions(methods: Sequence[AuditMethod | AuditMethodInfo], items: Sequence[AuditItem],
                    request: AuditRequest) -> dict[str, SelectiveDecision]:
    """Every method's decision at the request's alpha, delta, calibration fraction and seed."""
    return {m.name: method_decision(m, items, alpha=request.alpha, delta=request.delta, seed=request.seed,
                                    calibration_fraction=request.calibration_fraction) for m in methods}


def split_positions(decision: SelectiveDecision, items: Sequence[AuditItem]) -> tuple[list[int], list[int]]:
    """Positions in `items` of the decision's calibration and held-out items (empty before a split was made)."""
    position = {item.index: i for i, item in enumerate(items)}
    return ([position[i] for i in decision.calibration_indices if i in position],
            [position[i] for i in decision.held_out_indices if i in position])

