"""Cascades of two audited models (Gupta et al. 2024, "Language Model Cascades: Token-level uncertainty and
beyond", ICLR 2024): the small model answers every item, and the items it is least sure of are deferred to the large
model. Pure functions: audit items in, CascadeResult out.

Deferral rules (higher uncertainty = deferred sooner):
- token rules, on the small model's per-token negative log-probabilities u_t = -log p(y_t | y_<t, x) (nats) of
  its own answer: their mean (the paper's Chow-Average), sum (Chow-Sum), max (the least likely token: Chow-Quantile
  at 0 of the log-probabilities) and their 0.5, 0.8, 0.9 and 0.95 quantiles (numpy.quantile, linear interpolation:
  the paper's "quantiles of token uncertainty");
- every audit method of the small audit, its score turned into an uncertainty by the method's direction
  (higher_is "confident": its negative).

At deferral rate k / n the k items with the highest uncertainty go to the large model (ties: the lower item index
first; an item without a score is deferred before every scored one), so the cascade's accuracy is
(sum of the small model's right answers kept + the large model's right answers on the deferred) / n. References:
the oracle defers the small model's wrong answers first, those the large model gets right before the others (no
rule can do better at any rate), and random deferral's expectation is (1 - r) acc_small + r acc_large.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np

from backend.schemas.audit import AuditItem, AuditMethodInfo
from backend.schemas.cascade import CascadeCurve, CascadeResult

REPORT_RATES = (0.1, 0.2, 0.3, 0.5)
TOKEN_QUANTILES = (0.5, 0.8, 0.9, 0.95)
COST_NOTE = ("share of the items the large model is not asked (1 - deferral rate); the audits keep no per-item "
             "compute time, so the saving is not given in seconds")
NO_TOKEN_NUMBERS = ("token rules left out: the small audit's items were kept without their per-token "
                    "log-probabilities (kept since cascades came; run the small audit again with --fresh to keep "
                    "them)")
Uncertainty = Callable[[AuditItem], Optional[float]]


class CascadeRefused(ValueError):
    """The two audits cannot make a cascade; the message says why and what to change."""


@dataclass(frozen=True)
class CascadeSide:
    """One model's audit as a cascade uses it: who answered, which audit, on which data, and its items."""

    model: str
    audit_id: str
    dataset_sha256: str
    items: Sequence[AuditItem]


@dataclass(frozen=True)
class DeferralRule:
    """A way to rank the small model's answers from least to most sure: uncertainty(item), None when unscored."""

    name: str
    label: str
    kind: str
    description: str
    uncertainty: Uncertainty


def token_nll(item: AuditItem) -> Optional[np.ndarray]:
    """The answer's per-token negative log-probabilities (T,) in nats, or None without token numbers (or tokens)."""
    if not item.token_logprobs:
        return None
    return -np.asarray(item.token_logprobs, dtype=np.float64)


def _aggregate(reduce: Callable[[np.ndarray], float]) -> Uncertainty:
    def uncertainty(item: AuditItem) -> Optional[float]:
        nll = token_nll(item)
        return None if nll is None else float(reduce(nll))
    return uncertainty


def _quantile(q: float) -> Callable[[np.ndarray], float]:
    return lambda nll: np.quantile(nll, q)


def token_rules() -> list[DeferralRule]:
    """The token-uncertainty rules of Gupta et al.: mean, sum, max and quantiles of the answer's token NLL."""
    rules = [DeferralRule("token_mean_nll", "mean token NLL (Chow-Average)", "token",
                          "mean over the answer's tokens of -log p (nats)", _aggregate(np.mean)),
             DeferralRule("token_sum_nll", "summed token NLL (Chow-Sum)", "token",
                          "sum over the answer's tokens of -log p (nats): the answer's negative log-likelihood",
                          _aggregate(np.sum)),
             DeferralRule("token_max_nll", "max token NLL", "token",
                          "the largest -log p of any answer token (nats): the least likely token",
                          _aggregate(np.max))]
    for q in TOKEN_QUANTILES:
        rules.append(DeferralRule(f"token_q{round(q * 100)}_nll", f"token NLL {q:g}-quantile (Chow-Quantile)",
                                  "token", f"the {q:g}-quantile of the answer tokens' -log p (nats, linear "
                                           f"interpolation)", _aggregate(_quantile(q))))
    return rules


def method_rule(method: AuditMethodInfo) -> DeferralRule:
    """An audit method's score as a deferral rule: higher uncertainty (or lower confidence) deferred sooner."""
    sign = 1.0 if method.higher_is == "uncertain" else -1.0

    def uncertainty(item: AuditItem) -> Optional[float]:
        score = item.scores.get(method.name)
        return None if score is None else sign * score

    return DeferralRule(method.name, method.label, "method",
                        f"the audit method's score (higher = more {method.higher_is}; {method.paper})", uncertainty)


def pair_items(small: CascadeSide, large: CascadeSide) -> tuple[list[AuditItem], list[AuditItem]]:
    """The small audit's items and the large audit's answers to the same items, in the small audit's order.

    Items pair by (index, id) within the same dataset bytes; CascadeRefused when the models are the same, the
    datasets differ, the small audit has no items or the large one lacks some of them."""
    if small.model == large.model:
        raise CascadeRefused(f"both audits are of {small.model!r}: a cascade defers to a second model; name "
                             f"another (larger) model to defer to")
    if small.dataset_sha256 != large.dataset_sha256:
        raise CascadeRefused(f"the audits are of different datasets (SHA-256 {small.dataset_sha256[:12]}… and "
                             f"{large.dataset_sha256[:12]}…): a cascade compares two models on the same items; "
                             f"audit both on the same file")
    if not small.items:
        raise CascadeRefused(f"the audit of {small.model!r} has no finished item yet: run it first")
    answers = {(item.index, item.id): item for item in large.items}
    missing = [item for item in small.items if (item.index, item.id) not in answers]
    if missing:
        raise CascadeRefused(f"the audit of {large.model!r} has not answered {len(missing)} of the "
                             f"{len(small.items)} items {small.model!r} answered (first: #{missing[0].index} "
                             f"{missing[0].id!r}); finish its audit on the same items (running it again resumes)")
    return list(small.items), [answers[(item.index, item.id)] for item in small.items]


def deferral_order(uncertainty: Sequence[Optional[float]]) -> np.ndarray:
    """Positions (n,) in the order they are deferred: unscored first, then by uncertainty from the highest, ties by
    the lower position."""
    key = np.array([np.inf if u is None else u for u in uncertainty], dtype=np.float64)
    return np.lexsort((np.arange(len(key)), -key))


def cascade_accuracy(order: np.ndarray, small_correct: np.ndarray, large_correct: np.ndarray) -> np.ndarray:
    """Accuracy (n + 1,) when the first k of `order` are deferred, k = 0..n (correctness arrays (n,) of 0 / 1)."""
    gain = (large_correct - small_correct)[order]
    return (small_correct.sum() + np.concatenate([[0.0], np.cumsum(gain)])) / len(order)


def oracle_order(small_correct: np.ndarray, large_correct: np.ndarray) -> np.ndarray:
    """The best deferral order: small wrong and large right first, small right and large wrong last (stable)."""
    return np.argsort(-(large_correct - small_correct), kind="stable")


def random_accuracy(rates: np.ndarray, small_accuracy: float, large_accuracy: float) -> np.ndarray:
    """Random deferral's expected accuracy at each rate: (1 - r) acc_small + r acc_large."""
    return (1.0 - rates) * small_accuracy + rates * large_accuracy


def area_under(rates: np.ndarray, accuracy: np.ndarray) -> float:
    """Trapezoid area under accuracy over the deferral rates."""
    return float(np.trapezoid(accuracy, rates))


def make_curve(rule: DeferralRule, accuracy: np.ndarray, rates: np.ndarray, large_accuracy: float,
               references: Optional[tuple[float, float]], unscored: int = 0) -> CascadeCurve:
    """A CascadeCurve; references (random's area, the oracle's area) give its oracle_share."""
    area = area_under(rates, accuracy)
    share = None
    if references is not None and references[1] - references[0] > 1e-12:
        share = (area - references[0]) / (references[1] - references[0])
    reaches = rates[np.flatnonzero(accuracy >= large_accuracy - 1e-12)[0]]
    return CascadeCurve(name=rule.name, label=rule.label, kind=rule.kind, description=rule.description,
                        accuracy=accuracy.tolist(), area=area, oracle_share=share,
                        accuracy_at={f"{r:g}": float(np.interp(r, rates, accuracy)) for r in REPORT_RATES},
                        reaches_large_at=float(reaches), unscored=unscored)


def refused_result(small: CascadeSide, large_model: str, dataset_id: str, reason: str,
                   large_audit_id: Optional[str] = None) -> CascadeResult:
    """A CascadeResult that says why there are no curves."""
    return CascadeResult(small_model=small.model, large_model=large_model, small_audit_id=small.audit_id,
                         large_audit_id=large_audit_id, dataset_id=dataset_id, dataset_sha256=small.dataset_sha256,
                         refused=reason)


def cascade(small: CascadeSide, large: CascadeSide, methods: Sequence[AuditMethodInfo],
            dataset_id: str) -> CascadeResult:
    """Every rule's cascade curve (best area first) with the oracle and random deferral, or a refusal."""
    try:
        small_items, large_items = pair_items(small, large)
    except CascadeRefused as exc:
        return refused_result(small, large.model, dataset_id, str(exc), large.audit_id)
    small_correct = np.array([float(i.is_correct) for i in small_items])
    large_correct = np.array([float(i.is_correct) for i in large_items])
    n = len(small_items)
    rates = np.arange(n + 1) / n
    acc_small, acc_large = float(small_correct.mean()), float(large_correct.mean())
    oracle_rule = DeferralRule("oracle", "oracle", "oracle", "defers the small model's wrong answers first, those "
                               "the large model gets right before the others (knows the answers)", lambda _: None)
    random_rule = DeferralRule("random", "random deferral", "random",
                               "expected accuracy of deferring a random share r: (1 - r) acc_small + r acc_large",
                               lambda _: None)
    oracle_acc = cascade_accuracy(oracle_order(small_correct, large_correct), small_correct, large_correct)
    random_acc = random_accuracy(rates, acc_small, acc_large)
    references = (area_under(rates, random_acc), area_under(rates, oracle_acc))
    has_tokens = any(item.token_logprobs is not None for item in small_items)
    answered_text = any(item.grading in ("alias", "embedding", "no_match") for item in small_items)
    rules = (token_rules() if has_tokens else []) + [method_rule(m) for m in methods]
    curves = []
    for rule in rules:
        uncertainty = [rule.uncertainty(item) for item in small_items]
        accuracy = cascade_accuracy(deferral_order(uncertainty), small_correct, large_correct)
        curves.append(make_curve(rule, accuracy, rates, acc_large, references,
                                 sum(u is None for u in uncertainty)))
    curves.sort(key=lambda c: -round(c.area, 12))  # equal areas keep the rules' order
    return CascadeResult(
        small_model=small.model, large_model=large.model, small_audit_id=small.audit_id,
        large_audit_id=large.audit_id, dataset_id=dataset_id, dataset_sha256=small.dataset_sha256, n=n,
        small_accuracy=acc_small, large_accuracy=acc_large, deferral_rate=rates.tolist(),
        cost_saved=(1.0 - rates).tolist(), cost_note=COST_NOTE, rules=curves,
        oracle=make_curve(oracle_rule, oracle_acc, rates, acc_large, references),
        random=make_curve(random_rule, random_acc, rates, acc_large, references),
        notes=[NO_TOKEN_NUMBERS] if answered_text and not has_tokens else [])
