"""The claim methods' values (the registry entries ccp and luq) and the per-claim rows of a sequence analysis.

ccp: the answer's claim-conditioned probability, the product of its claims' CCPs (the product over all claim
tokens: lm-polygraph's sequence-level CCP on the same tokens); luq: 1 - the mean of the claims' supports (LUQ).
"""
from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np

from backend.analyses.evidence import Evidence
from backend.claims.scores import claim_ccp, token_ccp, token_stats
from backend.claims.support import claim_support, luq, supported_by
from backend.sequence.method_spec import MethodResult


def _claims(ev: Evidence) -> list:
    if not ev.claims:
        raise ValueError("the answer has no claims (it is empty)")
    return ev.claims


def claim_ccps(ev: Evidence) -> list[float]:
    """Each claim's CCP (claims,) from ev.claim_alternatives."""
    alternatives = ev.claim_alternatives or []
    return [claim_ccp(alternatives[c.token_start:c.token_end]) for c in _claims(ev)]


def ccp_result(ev: Evidence, _: Any) -> MethodResult:
    """The ccp entry: the product of the claims' CCPs, with each claim's and each token's in the details."""
    per_claim = claim_ccps(ev)
    value = math.prod(per_claim)
    alternatives = ev.claim_alternatives or []
    return MethodResult(value, value, {
        "per_claim": per_claim, "min_claim": min(per_claim), "mean_claim": float(np.mean(per_claim)),
        "token_ccp": [None if a is None else token_ccp(a) for a in alternatives],
        "alternatives_judged": sum(len(a) - 1 for a in alternatives if a is not None),
        "changing_alternatives": sum(cls == "contra" for a in alternatives if a for _, cls in a[1:])})


def luq_result(ev: Evidence, _: Any) -> MethodResult:
    """The luq entry: 1 - mean claim support, with each claim's support and the (claims, K) matrix."""
    _claims(ev)
    if ev.claim_support is None:
        raise ValueError("the claims were not compared with the samples")
    support = claim_support(ev.claim_support)
    value = luq(support)
    return MethodResult(value, value, {"per_claim_support": support, "support": np.asarray(ev.claim_support).tolist()})


def claim_rows(ev: Evidence, methods: set[str], support_threshold: Optional[float]) -> list[dict[str, Any]]:
    """The claims as ClaimScore fields: text, spans, token statistics, and ccp / luq_support when selected;
    supported_by counts samples at support >= support_threshold."""
    if not ev.claims:
        return []
    ccps = claim_ccps(ev) if "ccp" in methods and ev.claim_alternatives is not None else None
    support = np.asarray(ev.claim_support) if "luq" in methods and ev.claim_support is not None else None
    rows = []
    for n, claim in enumerate(ev.claims):
        span = slice(claim.token_start, claim.token_end)
        scores: dict[str, Optional[float]] = token_stats(ev.logprobs[span], ev.entropies[span], ev.special[span])
        if ccps is not None:
            scores["ccp"] = ccps[n]
        counted = None
        if support is not None and len(support):
            scores["luq_support"] = float(support[n].mean()) if support.shape[1] else None
            counted = supported_by(support[n:n + 1], support_threshold)[0] if support_threshold is not None else None
        rows.append({"text": claim.text, "start": claim.start, "end": claim.end, "token_start": claim.token_start,
                     "token_end": claim.token_end, "scores": scores, "supported_by": counted})
    return rows
