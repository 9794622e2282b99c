"""The Calibration page's relative-confidence call: what the comparisons still to compute will cost, said before
the audit runs (the backend counts the pairs and times one question's comparisons on the audit's model)."""
from __future__ import annotations

from typing import Optional

from app.audit_services import when_free
from app.services import get_client
from backend.schemas.audit import AuditRequest
from backend.schemas.relative_confidence import RELATIVE_CONFIDENCE, RelativeConfidenceCost


def cost_note(cost: RelativeConfidenceCost) -> str:
    """The estimate in one sentence for under the progress bar."""
    if not cost.items:
        return "Relative confidence: every question's comparisons are kept already; nothing is asked."
    return (f"Relative confidence: {cost.items} questions still to compare ({cost.comparisons} pairs, both orders: "
            f"{cost.passes} asking passes of one reply token), about {cost.seconds:.0f} s ({cost.note}); the "
            f"ranking is fitted when the results are read.")


def relative_cost_note(request: AuditRequest) -> Optional[str]:
    """What the audit's relative-confidence comparisons will cost, in words; None when it does not ask for them."""
    if RELATIVE_CONFIDENCE not in request.methods:
        return None
    return cost_note(when_free(lambda: get_client().estimate_relative_cost(request)))
