"""Model cascades over two audits of the same dataset (Gupta et al. 2024, "Language Model Cascades: Token-level
uncertainty and beyond", ICLR 2024): the small model answers every item, and the share r of items it is least sure
of is deferred to the large model, whose answer counts instead.

Every curve is the cascade's accuracy (a share of the paired items, in [0, 1]) at the deferral rates k / n,
k = 0..n, of the n paired items; the cost saved at each rate is the share of items the large model is not asked,
1 - r (the audits keep no per-item compute time, so no seconds are given).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Optional

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from backend.schemas.audit import AuditRequest

CASCADE_ASSUMPTION = ("Both audits answered the same dataset (the same SHA-256) and every paired item has the same "
                      "id in both; each answer is graded by its own audit (overrides included). The small model "
                      "answers every item; a deferred item takes the large model's answer instead.")
RuleKind = Literal["token", "method", "oracle", "random"]


class CascadeCurve(BaseModel):
    """One deferral rule's accuracy-versus-deferral-rate curve (the grid is CascadeResult.deferral_rate)."""

    name: str = Field(description="token_mean_nll, token_q90_nll, ..., an audit method's name, oracle or random")
    label: str
    kind: RuleKind = Field(description="token: an aggregate of the small model's per-token negative "
                                       "log-probabilities; method: an audit method's score; oracle / random: "
                                       "the references")
    description: str
    accuracy: list[float] = Field(description="cascade accuracy at each deferral rate, in [0, 1]")
    area: float = Field(description="area under accuracy vs deferral rate (trapezoids over the k / n grid)")
    oracle_share: Optional[float] = Field(None, description=(
        "(area - random's area) / (oracle's area - random's area): 1 = as good as the oracle, 0 = no better than "
        "random deferral; None when the oracle gains nothing over random"))
    accuracy_at: dict[str, float] = Field(default_factory=dict, description=(
        "accuracy at the rates 0.1, 0.2, 0.3 and 0.5 (keys as written), linear between grid points: the expected "
        "accuracy when the item on the boundary is deferred with the remaining probability"))
    reaches_large_at: float = Field(description="the smallest grid rate at which the cascade is at least as "
                                                "accurate as the large model alone (1 at worst)")
    unscored: int = Field(0, description="items without a score for this rule (no answer tokens, or the method "
                                         "gave none): deferred first")


class CascadeResult(BaseModel):
    """Cascade curves of a small model deferring to a large one on the same dataset, or why there are none."""

    small_model: str
    large_model: str
    small_audit_id: str
    large_audit_id: Optional[str] = Field(None, description="the large model's audit whose answers are used")
    dataset_id: str
    dataset_sha256: str
    n: int = Field(0, description="paired items")
    small_accuracy: Optional[float] = None
    large_accuracy: Optional[float] = None
    deferral_rate: list[float] = Field(default_factory=list, description="k / n for k = 0..n")
    cost_saved: list[float] = Field(default_factory=list, description=(
        "share of items not sent to the large model at each deferral rate (1 - rate)"))
    cost_note: str = Field("", description="what the cost saved counts, and why not seconds")
    rules: list[CascadeCurve] = Field(default_factory=list, description="deferral rules, best area first")
    oracle: Optional[CascadeCurve] = Field(None, description=(
        "defers the small model's wrong answers first, those the large model gets right before the others"))
    random: Optional[CascadeCurve] = Field(None, description=(
        "random deferral's expectation: (1 - r) small accuracy + r large accuracy"))
    notes: list[str] = Field(default_factory=list, description="what was left out and why (token rules on items "
                                                               "kept without their token numbers, ...)")
    assumption: str = CASCADE_ASSUMPTION
    refused: Optional[str] = Field(None, description="why no curves could be computed, with what to change")

    def best(self) -> Optional[CascadeCurve]:
        """The rule with the largest area under its curve, or None (refused, or no rule)."""
        return self.rules[0] if self.rules else None


def deferral_request(request: AuditRequest) -> AuditRequest:
    """The large model's audit of a request with defer_to: the same request (dataset, limit, methods, settings)
    with model = defer_to, audited under its own id; ValueError when defer_to is not set."""
    if not request.defer_to:
        raise ValueError("defer_to is not set: name the model to defer to")
    return request.model_copy(update={"model": request.defer_to, "defer_to": None})
