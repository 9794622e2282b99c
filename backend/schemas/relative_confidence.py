"""What an audit's relative-confidence comparisons will cost before they run (backend.decisions.relative_cost)."""
from __future__ import annotations

from pydantic import BaseModel, Field

RELATIVE_CONFIDENCE = "relative_confidence"
"""The audit method's name (backend.decisions.relative_confidence)."""


class RelativeConfidenceCost(BaseModel):
    """Asking passes of the comparisons still to compute, and seconds from one item's comparisons timed on the
    audit's model."""

    audit_id: str
    model: str
    items: int = Field(description="questions whose comparisons are still to compute (the audit's pending items)")
    comparisons: int = Field(description="pairs those questions ask about (each in both orders)")
    passes: int = Field(description="asking passes: one reply token each (in-process: one batched forward pass per "
                                    "question; served: one request per pass)")
    seconds_per_item: float = Field(description="one question's comparisons, timed on the audit's model")
    seconds: float = Field(description="items x seconds_per_item, divided for a served model by the items in flight")
    note: str = Field(description="how the seconds were estimated, in words")
