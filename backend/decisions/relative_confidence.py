"""Relative confidence: which of two questions the model is more sure of, asked pair by pair, turned into a ranking.

Shrivastava, Liang & Kumar, "Language Models Prefer What They Know: Relative Confidence Estimation via Confidence
Preferences" (2025): a model ranks questions by how sure it is better than it states an absolute confidence for
each; the pairwise preferences are aggregated into one score per question (the paper compares Elo, TrueSkill and
Bradley-Terry). Here:

- Pairing (partner_indices): the audit's `total` questions are laid out in ceil(m / 2) cyclic orders drawn from the
  audit's seed; each question asks about its successor in each order, so it owns ceil(m / 2) comparisons and takes
  part in about m = COMPARISONS (its own and its predecessors'). The orders depend only on (seed, total), never on
  which items are done, so a resumed audit asks exactly the same pairs. Partners are questions, not answers: an
  item's comparisons need no other item finished.
- Asking (comparison_prompt): "Question A: ... Question B: ... Which of these two questions are you more confident
  you can answer correctly? Reply with A or B.", read from the first reply token's distribution as
  P(A) / (P(A) + P(B)), each letter summed over its one-token spellings (A_WORDS / B_WORDS). Every pair is asked in
  BOTH orders and the two readings averaged (debiased), which cancels a preference for a position (small models
  often answer "A" to anything); the paper reads the model's chosen letter, this keeps its probability (the
  expected outcome of the comparison, equal to the paper's when the model is sure).
- Ranking (fit_bradley_terry): a Bradley-Terry model P(i preferred to j) = sigmoid(theta_i - theta_j) fitted to the
  fractional outcomes by Hunter's MM algorithm (Hunter, "MM algorithms for generalized Bradley-Terry models", Ann.
  Statist. 2004), with PRIOR_DRAWS virtual draws of every question against a reference question of strength 0 (as
  Coulom's Bayeselo does), so the fit is finite and unique whatever the graph (an unbeaten question, two groups
  never compared). The score is theta, in logits: higher = more confident, not a probability (an audit maps it to
  one by Platt scaling); sigmoid(theta) is the chance it is preferred to an average question.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Iterable, Optional, Sequence

import numpy as np

from backend.errors import UserInputError
from backend.schemas.audit import AuditItem
from backend.schemas.relative_confidence import RELATIVE_CONFIDENCE

METHOD = RELATIVE_CONFIDENCE
PAPER = ("Shrivastava, Liang & Kumar, Language Models Prefer What They Know: Relative Confidence Estimation via "
         "Confidence Preferences (2025)")
COMPARISONS = 4
"""m: comparisons each question takes part in (it asks ceil(m / 2) of them, each in both orders)."""
ORDERS = 2
"""Both orders of each pair are asked (question first as A, then as B)."""
PRIOR_DRAWS = 1.0
A_WORDS = ("A", " A")
B_WORDS = ("B", " B")
ASSUMES = ("the model's preference between two questions follows which one it is more likely to answer right "
           "(Shrivastava et al. 2025); the order of a pair adds at most a constant preference for A or B (cancelled by "
           "asking both orders); preferences follow one strength per question (Bradley-Terry); the strengths rank this "
           "audit's questions against each other (one virtual draw each against an average question), so they do not "
           "compare across audits; the pairs depend on the seed and on how many questions are audited, so an audit "
           "grown to more items adds pairs of a new pairing")
TOLERANCE = 1e-10
MAX_ITERATIONS = 20000
SEED_SALT = 0x5EED_BC  # keeps these orders apart from other draws seeded by the audit's seed


def comparison_prompt(first: str, second: str) -> str:
    """The question put to the model about two questions, `first` as A."""
    return (f"Question A: {first}\nQuestion B: {second}\n"
            "Which of these two questions are you more confident you can answer correctly? Reply with A or B.")


def rounds_for(comparisons: int) -> int:
    """Cyclic orders needed for each question to take part in about `comparisons` comparisons (two per order)."""
    if comparisons < 1:
        raise ValueError(f"comparisons must be at least 1, got {comparisons}")
    return math.ceil(comparisons / 2)


@lru_cache(maxsize=8)
def cyclic_orders(total: int, seed: int, rounds: int) -> tuple[tuple[int, ...], ...]:
    """`rounds` seeded permutations of range(total), each read as a cycle (the last position's successor is the
    first). Deterministic in (total, seed, rounds)."""
    rng = np.random.default_rng([seed, total, SEED_SALT])
    return tuple(tuple(int(v) for v in rng.permutation(total)) for _ in range(rounds))


def partner_indices(index: int, total: int, seed: int, comparisons: int = COMPARISONS) -> list[int]:
    """The questions item `index` (0 <= index < total) asks about: its successor in each cyclic order, each partner
    once, in order of the rounds. ValueError for fewer than 2 questions or an index outside them."""
    if total < 2:
        raise ValueError(f"relative confidence compares questions with each other: it needs at least 2, got {total}")
    if not 0 <= index < total:
        raise ValueError(f"index {index} is outside the {total} questions")
    partners: list[int] = []
    for order in cyclic_orders(total, seed, rounds_for(comparisons)):
        position = order.index(index)
        partner = order[(position + 1) % total]
        if partner not in partners:
            partners.append(partner)
    return partners


def check_comparable(methods: Iterable[str], kind: str, total: Optional[int] = None) -> None:
    """Refuse relative confidence where the data cannot give it: UserInputError saying what to change when it is
    among the methods and the audit is not of questions, or (total given) has fewer than 2 of them. In a file of
    precomputed scores ("given") the name is a column like any other."""
    if METHOD not in methods or kind == "given":
        return
    if kind != "qa":
        raise UserInputError(f"{METHOD} compares questions with each other, so it needs a question audit "
                             f"(builtin-qa or a JSONL / CSV of questions and answers); this dataset holds {kind} "
                             f"items: leave {METHOD} out")
    if total is not None and total < 2:
        raise UserInputError(f"{METHOD} ranks questions by comparing them in pairs: audit at least 2 questions "
                             f"(the limit is {total})")


def preference(p_a: float, p_b: float) -> Optional[float]:
    """P(A) / (P(A) + P(B)): how much the model prefers A among the two letters; None when it gives neither any
    probability."""
    total = p_a + p_b
    return p_a / total if total > 0 else None


def letters_from_top(top: Sequence[tuple[str, float]]) -> tuple[float, float]:
    """(P(A), P(B)) from a served model's top-k first reply tokens (text, probability), most likely first: each
    letter summed over its spellings among them (each token text once). A letter absent from the top-k is an
    estimate: the most it can have, min(the k-th probability, the mass the top-k leave), which makes the preference
    the least extreme the top-k allow. ValueError when neither letter is among them."""
    seen: dict[str, float] = {}
    for text, prob in top:
        if text in A_WORDS + B_WORDS and text not in seen:
            seen[text] = prob
    if not seen:
        raise ValueError(f"neither A nor B is among the top-{len(top)} first tokens of the reply")
    p_a = math.fsum(p for text, p in seen.items() if text in A_WORDS)
    p_b = math.fsum(p for text, p in seen.items() if text in B_WORDS)
    unseen = min(min(p for _, p in top), max(0.0, 1.0 - math.fsum(p for _, p in top)))
    return (p_a or unseen), (p_b or unseen)


def debiased(as_first: Optional[float], as_second: Optional[float]) -> Optional[float]:
    """P(this question preferred) from both orders: as_first = P(A) with it as A, as_second = P(A) with its
    partner as A. Their mean of 'it was picked' cancels a constant preference for a position; None when either
    order gave no reading (one order alone would keep the position's bias)."""
    if as_first is None or as_second is None:
        return None
    return (as_first + (1.0 - as_second)) / 2.0


def fit_bradley_terry(first: np.ndarray, second: np.ndarray, wins: np.ndarray, n: int,
                      prior_draws: float = PRIOR_DRAWS, tolerance: float = TOLERANCE,
                      max_iterations: int = MAX_ITERATIONS) -> np.ndarray:
    """Bradley-Terry log-strengths theta (n,) from E comparisons: first (E,), second (E,) node indices in [0, n),
    wins (E,) in [0, 1], the share of comparison e that `first` won. P(i preferred to j) = sigmoid(theta_i -
    theta_j).

    Hunter's MM update p_i <- W_i / D_i on p = exp(theta), all nodes at once: W_i = wins of i plus half of its
    prior_draws virtual draws, D_i = sum over its comparisons of 1 / (p_i + p_j) plus prior_draws / (p_i + 1) (the
    reference question has p = 1). prior_draws > 0 makes the maximum unique and finite (a MAP estimate); with 0 it
    is the maximum-likelihood fit, centred to mean 0, which needs every node to have won and lost some share in a
    connected graph. ValueError when it does not converge to `tolerance` (largest change of theta) in time."""
    first, second = np.asarray(first, dtype=np.int64), np.asarray(second, dtype=np.int64)
    wins = np.clip(np.asarray(wins, dtype=np.float64), 0.0, 1.0)
    won = (np.bincount(first, weights=wins, minlength=n) + np.bincount(second, weights=1.0 - wins, minlength=n)
           + prior_draws / 2.0)
    if prior_draws <= 0 and np.any(won <= 0):
        raise ValueError("without prior draws every question must win some share of a comparison")
    strength = np.ones(n)
    for _ in range(max_iterations):
        inverse = 1.0 / (strength[first] + strength[second])
        denominator = (np.bincount(first, weights=inverse, minlength=n) + np.bincount(second, weights=inverse,
                                                                                     minlength=n)
                       + prior_draws / (strength + 1.0))
        updated = won / denominator
        if prior_draws <= 0:
            updated = updated / np.exp(np.mean(np.log(updated)))
        change = np.max(np.abs(np.log(updated) - np.log(strength))) if n else 0.0
        strength = updated
        if change < tolerance:
            return np.log(strength)
    raise ValueError(f"the Bradley-Terry fit did not converge in {max_iterations} iterations")


def relative_scores(items: Sequence[AuditItem], prior_draws: float = PRIOR_DRAWS) -> dict[int, Optional[float]]:
    """Item index -> theta from every comparison the items hold (AuditItem.comparisons: partner index -> P(the item
    preferred)); partners need not be among the items (they are questions and enter the fit as nodes). None for an
    item that takes part in no comparison."""
    edges = [(item.index, int(partner), share) for item in items for partner, share in (item.comparisons or {}).items()]
    compared = {a for a, _, _ in edges} | {b for _, b, _ in edges}
    if not edges:
        return {item.index: None for item in items}
    nodes = sorted(compared)
    position = {node: i for i, node in enumerate(nodes)}
    theta = fit_bradley_terry(np.array([position[a] for a, _, _ in edges]),
                              np.array([position[b] for _, b, _ in edges]),
                              np.array([share for _, _, share in edges]), len(nodes), prior_draws)
    return {item.index: float(theta[position[item.index]]) if item.index in compared else None for item in items}


def with_relative_scores(items: Sequence[AuditItem], name: str = METHOD) -> list[AuditItem]:
    """Copies of the items with scores[name] set to their Bradley-Terry strength over all their comparisons (the
    ranking needs every item, so it is made when the audit is summarised, never kept with an item)."""
    scores = relative_scores(items)
    return [item.model_copy(update={"scores": {**item.scores, name: scores[item.index]}}) for item in items]


def result_note(items: Sequence[AuditItem]) -> dict:
    """What an audit's relative-confidence scores rest on, for AuditResult.extra: the assumptions, the comparisons
    kept and the questions they reach."""
    kept = [(item.index, int(partner)) for item in items for partner in (item.comparisons or {})]
    return {"assumes": ASSUMES, "comparisons": len(kept), "questions_compared": len({q for pair in kept for q in pair}),
            "fit": f"Bradley-Terry by Hunter's MM algorithm, {PRIOR_DRAWS:g} virtual draw per question against a "
                   f"reference of strength 0; score = log-strength (logits)"}
