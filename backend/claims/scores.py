"""Per-claim scores from per-token evidence. Pure: lists in, numbers out (nats, probabilities).

Claim-conditioned probability (Fadeeva et al., Fact-Checking the Output of Large Language Models via Token-Level
Uncertainty Quantification, ACL Findings 2024), as lm-polygraph 0.7.0's ClaimConditionedProbabilityClaim defines
it: at each token of a claim, the model's top-k alternatives (the chosen token first) are classed by whether
substituting them keeps the claim's meaning ("entail"), changes it ("contra") or neither ("neutral"); the token's
CCP is P(entail) / (P(entail) + P(contra)), neutral alternatives counting in neither, the chosen token always
entailing. The claim's CCP is the product of its tokens' CCPs (in [0, 1], higher = more confident); lm-polygraph
reports its negative as the uncertainty.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

Alternatives = Sequence[tuple[float, str]]
"""A token's top-k alternatives, the chosen token first: (probability, "entail" | "contra" | "neutral")."""


def token_ccp(alternatives: Alternatives) -> float:
    """P(entail) / (P(entail) + P(contra)) over one token's alternatives (the first, the chosen token, counts as
    entail whatever its class); 1.0 for a token with no alternatives listed."""
    if not alternatives:
        return 1.0
    entail = sum(p for i, (p, cls) in enumerate(alternatives) if i == 0 or cls == "entail")
    contra = sum(p for i, (p, cls) in enumerate(alternatives) if i > 0 and cls == "contra")
    return entail / (entail + contra) if entail + contra > 0 else 1.0


def claim_ccp(token_alternatives: Sequence[Optional[Alternatives]]) -> float:
    """The claim's CCP: the product of token_ccp over its tokens (a token with None, e.g. a special token or white
    space, counts as 1); 1.0 for a claim of no tokens."""
    return math.prod(token_ccp(alts) if alts is not None else 1.0 for alts in token_alternatives)


def token_stats(logprobs: Sequence[float], entropies: Sequence[float],
                special: Sequence[bool]) -> dict[str, Optional[float]]:
    """Mean and max token entropy (nats) and mean -log p (nats) of a claim's tokens, special ones left out; None
    for each when no token is left."""
    kept = [(lp, h) for lp, h, s in zip(logprobs, entropies, special) if not s]
    if not kept:
        return {"mean_token_entropy": None, "max_token_entropy": None, "mean_neg_logprob": None}
    return {"mean_token_entropy": sum(h for _, h in kept) / len(kept),
            "max_token_entropy": max(h for _, h in kept),
            "mean_neg_logprob": -sum(lp for lp, _ in kept) / len(kept)}
