"""Entropy of a next-token distribution known only through its top-k log-probabilities (a served model's view).

A served model (vLLM, an OpenAI-compatible API) returns, for one position, the k largest probabilities
p_1 >= ... >= p_k of a distribution over V tokens, sometimes plus the probability of a chosen token outside
the top-k. The rest of the distribution is unseen. What is known about it:

- the unseen tokens number M = V - n (n = how many distinct tokens have a known probability),
- their probabilities q_1..q_M sum to the remaining mass R = 1 - S (S = the known probabilities' sum),
- each is at most p_k, the smallest top-k probability (else it would have been in the top-k).

The entropy is H = H_known + G(q), with H_known = -sum_i p_i log p_i over the known tokens and
G(q) = -sum_j q_j log q_j. G is concave and symmetric, and the feasible set
{q : 0 <= q_j <= p_k, sum_j q_j = R} is a polytope (a slice of a box). Hence:

- upper bound: a symmetric concave function is largest at the feasible point closest to uniform, and the
  uniform q_j = R / M itself is feasible (R <= M p_k for any distribution consistent with the top-k), so
  upper = H_known - R log(R / M). It is attained by the distribution that spreads R evenly.
- lower bound: a concave function on a polytope is smallest at a vertex. A vertex of a sliced box has at most one
  coordinate strictly between its bounds, so it puts m = floor(R / p_k) tokens at p_k, one token at the
  leftover r = R - m p_k, and zeros elsewhere; every vertex is such a permutation, so
  lower = H_known - m p_k log p_k - r log r. It is attained too: both bounds are the tightest possible.

Both collapse to H_known when R = 0 or when every token is known (n = V): then the value is exact. Units: nats.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from backend.errors import UserInputError

BEYOND_TOP_K = "beyond top-k"
MASS_TOLERANCE = 1e-6


@dataclass(frozen=True)
class EntropyBounds:
    """The entropy of one position's distribution, in nats, as far as the known probabilities pin it down.

    lower, upper: provably valid bounds (lower <= true entropy <= upper); estimate: their midpoint;
    exact: True when lower == upper (the unseen mass is zero or every token is known); unseen_mass: 1 - S.
    """

    lower: float
    upper: float
    estimate: float
    exact: bool
    unseen_mass: float


def _plogp(p: float) -> float:
    """p log p with 0 log 0 = 0."""
    return p * math.log(p) if p > 0 else 0.0


def unseen_mass(known_probs: Sequence[float]) -> float:
    """1 - sum(known_probs), clipped at 0 (rounded log-probabilities can sum a hair above 1)."""
    return max(0.0, 1.0 - math.fsum(known_probs))


def entropy_bounds(top_logprobs: Sequence[float], vocab_size: int,
                   other_logprobs: Sequence[float] = ()) -> EntropyBounds:
    """Bounds on the entropy (nats) of a distribution over `vocab_size` tokens from its top-k log-probabilities.

    top_logprobs: the k largest natural-log probabilities of the position, any order, k >= 1, each <= 0.
    other_logprobs: log-probabilities of further known tokens outside the top-k (e.g. the chosen token when the
    server reports it beside the top-k); each must be <= the smallest top-k one. vocab_size: V, the number of
    tokens the distribution ranges over (the model's vocabulary). See the module docstring for the derivation.
    """
    if not top_logprobs:
        raise UserInputError("entropy bounds need at least one top log-probability; ask the server for top_logprobs >= 1")
    known = [math.exp(lp) for lp in (*top_logprobs, *other_logprobs)]
    if len(known) > vocab_size:
        raise UserInputError(f"{len(known)} known probabilities but a vocabulary of {vocab_size} tokens; pass the "
                             f"model's vocabulary size")
    cap = min(math.exp(lp) for lp in top_logprobs)
    if other_logprobs and max(math.exp(lp) for lp in other_logprobs) > cap * (1 + MASS_TOLERANCE):
        raise UserInputError("a token outside the top-k is more likely than the k-th; pass it among the top-k")
    known_entropy = -math.fsum(_plogp(p) for p in known)
    rest = unseen_mass(known)
    unseen = vocab_size - len(known)
    if unseen == 0 or rest == 0.0:
        return EntropyBounds(known_entropy, known_entropy, known_entropy, True, rest)
    if rest > unseen * cap * (1 + MASS_TOLERANCE) + MASS_TOLERANCE:
        raise UserInputError(f"the top-k leave {rest:.4g} of the probability unseen, more than the {unseen} other "
                             f"tokens can hold at most {cap:.4g} each; check vocab_size ({vocab_size})")
    upper = known_entropy - rest * math.log(rest / unseen)
    at_cap = min(unseen, math.floor(rest / cap * (1 + 1e-12)))
    leftover = max(0.0, rest - at_cap * cap) if at_cap < unseen else 0.0
    lower = known_entropy - at_cap * _plogp(cap) - _plogp(leftover)
    lower = min(lower, upper)
    return EntropyBounds(lower, upper, (lower + upper) / 2, upper - lower <= 1e-12, rest)


def rank_in_top(chosen: int | str, top: Sequence[int | str]) -> int | None:
    """The 1-based rank of `chosen` among `top` (most likely first), or None when it is beyond the top-k."""
    for position, token in enumerate(top, start=1):
        if token == chosen:
            return position
    return None


def rank_label(rank: int | None) -> str:
    """A rank as shown to a person: the number, or "beyond top-k" when the server did not rank the token."""
    return BEYOND_TOP_K if rank is None else str(rank)
