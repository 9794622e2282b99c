"""Two audits of the same dataset compared: items paired by id, each side's reliability diagram and risk-coverage
curve on the paired items, and every metric of A and B with the difference B - A and its paired-bootstrap
interval. The sides are (audit, method): two models, two settings, or two methods of one audit.

Confidences are probabilities in [0, 1]; NLL in nats; risk and coverage are shares in [0, 1].
"""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator

from backend.schemas.audit import AUDIT_ID_PATTERN

DEFAULT_COMPARE_RESAMPLES = 1000
MIN_COMPARE_RESAMPLES = 100
MAX_COMPARE_RESAMPLES = 5000
MAX_COMPARE_WORK = 10_000_000
"""The most paired items x resamples one comparison computes (5,000 items at 2,000 resamples)."""
MAX_KEPT_AUDITS = 200
Side = Literal["a", "b"]


class AuditComparisonRequest(BaseModel):
    """Which two kept audits (and which method of each) to compare, and the bootstrap's settings."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    audit_a: str = Field(pattern=AUDIT_ID_PATTERN, description="audit id of side A (16 hex digits)")
    audit_b: str = Field(pattern=AUDIT_ID_PATTERN, description="audit id of side B; may equal audit_a when "
                                                                "method_b differs from method_a")
    method_a: Optional[str] = Field(None, min_length=1, max_length=100,
                                    description="A's method (default: A's first method)")
    method_b: Optional[str] = Field(None, min_length=1, max_length=100, description=(
        "B's method (default: method_a when B has it, else B's first method)"))
    n_boot: int = Field(DEFAULT_COMPARE_RESAMPLES, ge=MIN_COMPARE_RESAMPLES, le=MAX_COMPARE_RESAMPLES,
                        description="paired bootstrap resamples of the items")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="seed of the resamples")
    level: float = Field(0.95, ge=0.5, le=0.999, description="confidence level of the percentile intervals")

    @model_validator(mode="after")
    def _two_sides(self) -> AuditComparisonRequest:
        if self.audit_a == self.audit_b and self.method_a == self.method_b:
            raise ValueError("audit_a and audit_b are the same audit: compare two audits, or name two different "
                             "methods of it (method_a and method_b)")
        return self


class ComparedSide(BaseModel):
    """One side as compared: the audit, who answered, the method, and its numbers' provenance."""

    audit_id: str
    model_id: str
    method: str
    label: str = Field(description="how figures name the side: 'A: model · method'")
    higher_is: Literal["uncertain", "confident"]
    is_probability: bool
    confidence_source: str = Field(description="how confidences for ECE / Brier / NLL were made on the paired items")
    kept_items: int = Field(description="items this audit has kept")
    accuracy: float = Field(description="share right on the paired items (a person's override wins)")


class ReliabilityCurve(BaseModel):
    """A reliability diagram's numbers on the paired items: one entry per bin (M,), edges (M + 1,); None in empty
    bins."""

    edges: list[float]
    counts: list[int]
    mean_confidence: list[Optional[float]]
    accuracy: list[Optional[float]]


class RiskCoverageCurve(BaseModel):
    """Risk (error rate of the k most confident paired items) at coverage k / n, k = 1..n, and its area."""

    coverage: list[float]
    risk: list[float]
    aurc: float


class ReliabilityPair(BaseModel):
    """Each side's reliability diagram (None where its confidences could not be made)."""

    a: Optional[ReliabilityCurve]
    b: Optional[ReliabilityCurve]


class RiskCoveragePair(BaseModel):
    """Each side's risk-coverage curve."""

    a: RiskCoverageCurve
    b: RiskCoverageCurve


class MetricDifference(BaseModel):
    """One metric of A and B on the paired items, the difference B - A and its paired-bootstrap interval."""

    name: str = Field(description="accuracy, ece, mce, ace, brier, nll, auroc, auprc, aurc or prr")
    label: str
    better: Literal["lower", "higher"]
    a: Optional[float]
    b: Optional[float]
    difference: Optional[float] = Field(description="b - a")
    ci_low: Optional[float] = Field(description="percentile interval of b - a over the paired resamples")
    ci_high: Optional[float]
    p_boot: Optional[float] = Field(None, description=(
        "two-sided share of resamples on the far side of 0: 2 min(P(d* <= 0), P(d* >= 0)), at most 1"))
    excludes_zero: bool = Field(False, description="the interval lies wholly above or below 0")
    undefined: Optional[str] = Field(None, description="why a value or its interval is missing")


class AuditComparison(BaseModel):
    """Two audits of one dataset compared on the items both kept."""

    dataset_id: str
    a: ComparedSide
    b: ComparedSide
    paired_items: int = Field(description="items both audits kept and both methods scored")
    only_a: int = Field(description="items only A kept")
    only_b: int = Field(description="items only B kept")
    unscored: int = Field(0, description="items both kept but one method gave no score (left out)")
    n_boot: int
    seed: int
    level: float
    binning: str
    metrics: list[MetricDifference]
    reliability: ReliabilityPair
    risk_coverage: RiskCoveragePair
    notes: list[str] = Field(default_factory=list)


class KeptAudit(BaseModel):
    """An audit the store keeps, as a picker lists it."""

    audit_id: str
    dataset_id: str
    model_id: str
    methods: list[str]
    seed: int = Field(description="the audit's seed")
    kept_items: int
    created_at: str
