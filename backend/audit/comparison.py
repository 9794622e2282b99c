"""Two audits of the same dataset compared, method against method, on the items both kept (pure: items in,
AuditComparison out).

Pairing: items pair by their id (the k-th item of an id in A with the k-th of that id in B, so repeated ids pair
in order); the sides may be two audits (two models, two settings) or two methods of one audit. A pair counts when
both methods scored it. Each side is graded by its own audit (a person's override wins).

Numbers: on the n paired items each side gets the single-audit summary's metrics (backend.audit.summary: accuracy,
ECE / MCE / ACE over 10 equal-width bins, Brier, NLL in nats from its calibration confidences, Platt-mapped out of
fold from the side's audit seed when the score is not a probability; AUROC, AUPRC, AURC and PRR of the raw scores),
its reliability diagram and its risk-coverage curve. The difference is B - A.

Paired bootstrap (Efron & Tibshirani 1993, ch. 13; the percentile interval of backend.analyses.bootstrap): B
resamples of the n pairs with replacement from numpy's default generator at the request's seed, the same pairs for
both sides, the difference of each metric on each resample; the interval is its (1 - level) / 2 and (1 + level) / 2
percentiles, and p_boot = 2 min(P(d* <= 0), P(d* >= 0)) (at most 1). Confidences are held fixed, as in the
single-audit intervals. Cost: n x B is capped (MAX_COMPARE_WORK); a budget checkpoint runs between chunks.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np

from backend.analyses import bootstrap as bs
from backend.analyses import calibration as cal
from backend.analyses import error_detection as ed
from backend.audit.summary import N_BINS, calibration_confidence
from backend.budget import checkpoint
from backend.errors import UserInputError
from backend.schemas.audit import AuditItem, AuditMethodInfo
from backend.schemas.audit_compare import (MAX_COMPARE_WORK, AuditComparison, AuditComparisonRequest, ComparedSide,
                                           MetricDifference, ReliabilityCurve, ReliabilityPair, RiskCoverageCurve,
                                           RiskCoveragePair)

BINNING = f"{N_BINS} equal-width bins [k/M, (k+1)/M), the last closed at 1; ACE: equal-mass bins"
Batched = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class AuditSide:
    """One side as kept: its audit, who answered, on which data, the method compared, the audit's seed (for the
    out-of-fold Platt map) and its items."""

    audit_id: str
    model_id: str
    dataset_id: str
    dataset_sha256: str
    method: AuditMethodInfo
    seed: int
    items: Sequence[AuditItem]


@dataclass(frozen=True)
class Metric:
    """One row of the table: what it reads ("hit": correctness only, "confidence" or "score" with correctness), its
    scalar and its batched form ((B, n) arrays in, (B,) out)."""

    name: str
    label: str
    better: str
    reads: str
    batched: Callable[[str], Batched]


def _fixed(function: Callable[..., np.ndarray]) -> Callable[[str], Batched]:
    return lambda _direction: function


METRICS = (
    Metric("accuracy", "accuracy", "higher", "hit", _fixed(lambda _v, y: np.mean(y, axis=1))),
    Metric("ece", "ECE", "lower", "confidence", _fixed(lambda c, y: bs.batched_ece(c, y, N_BINS))),
    Metric("mce", "MCE", "lower", "confidence", _fixed(lambda c, y: bs.batched_mce(c, y, N_BINS))),
    Metric("ace", "ACE", "lower", "confidence", _fixed(lambda c, y: bs.batched_ace(c, y, N_BINS))),
    Metric("brier", "Brier", "lower", "confidence", _fixed(bs.batched_brier)),
    Metric("nll", "NLL (nats)", "lower", "confidence", _fixed(bs.batched_nll)),
    Metric("auroc", "AUROC", "higher", "score", lambda d: lambda s, y: bs.batched_auroc(s, y, d)),
    Metric("auprc", "AUPRC", "higher", "score", lambda d: lambda s, y: bs.batched_auprc(s, y, d)),
    Metric("aurc", "AURC", "lower", "score", lambda d: lambda s, y: bs.batched_aurc(s, y, d)),
    Metric("prr", "PRR", "higher", "score", lambda d: lambda s, y: bs.batched_prr(s, y, d)),
)


def side_label(letter: str, side: AuditSide) -> str:
    """How figures and tables name a side: 'A: model · method'."""
    return f"{letter}: {side.model_id} · {side.method.name}"


def check_same_dataset(a: AuditSide, b: AuditSide) -> list[str]:
    """Refuse two audits of different datasets (UserInputError naming both); a note when one dataset name held
    other bytes in the two audits."""
    if a.dataset_id != b.dataset_id and a.dataset_sha256 != b.dataset_sha256:
        raise UserInputError(f"audit {a.audit_id} is of {a.dataset_id!r} and audit {b.audit_id} of {b.dataset_id!r}: "
                             f"compare two audits of the same dataset")
    if a.dataset_sha256 != b.dataset_sha256:
        return [f"{a.dataset_id} held other bytes in the two audits (SHA-256 {a.dataset_sha256[:12]}… and "
                f"{b.dataset_sha256[:12]}…): items are paired by id"]
    return []


def item_keys(items: Sequence[AuditItem]) -> list[tuple[str, int]]:
    """(id, how many earlier items had this id) of each item: unique keys even where ids repeat."""
    seen: dict[str, int] = {}
    keys = []
    for item in items:
        keys.append((item.id, seen.get(item.id, 0)))
        seen[item.id] = seen.get(item.id, 0) + 1
    return keys


def pair_positions(a: Sequence[AuditItem], b: Sequence[AuditItem]) -> tuple[list[tuple[int, int]], int, int]:
    """([(position in a, position in b)] of the items both kept, in A's order; how many only A kept, only B)."""
    in_b = {key: position for position, key in enumerate(item_keys(b))}
    pairs = [(i, in_b[key]) for i, key in enumerate(item_keys(a)) if key in in_b]
    return pairs, len(a) - len(pairs), len(b) - len(pairs)


def side_arrays(side: AuditSide, positions: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """(scores (n,), correctness (n,) as 0.0 / 1.0) of the side's method at these item positions."""
    items = [side.items[p] for p in positions]
    return (np.array([i.scores[side.method.name] for i in items], dtype=np.float64),
            np.array([float(i.is_correct) for i in items]))


def finite(value: float) -> Optional[float]:
    """value as a float, None when NaN or infinite."""
    return float(value) if value is not None and math.isfinite(value) else None


def inputs_of(metric: Metric, score: np.ndarray, confidence: Optional[np.ndarray]) -> Optional[np.ndarray]:
    """The array a metric reads besides correctness, None when it cannot be computed (no confidences)."""
    return {"hit": score, "confidence": confidence, "score": score}[metric.reads]


def point_value(metric: Metric, values: Optional[np.ndarray], hit: np.ndarray, direction: str) -> Optional[float]:
    """The metric on all n paired items (the batched form on one row: equal to the summary's scalar, tested)."""
    if values is None:
        return None
    return finite(float(metric.batched(direction)(values[None, :], hit[None, :])[0]))


def paired_differences(metric: Metric, a: tuple, b: tuple, n_boot: int, seed: int) -> np.ndarray:
    """(B,) metric(B side) - metric(A side) on B paired resamples; a and b are (values (n,), correctness (n,),
    direction). Chunked rows of at most CHUNK_ELEMENTS entries, drawn in order from one generator, so the
    resamples are those of bootstrap.resample_indices(n, B, seed); a checkpoint between chunks."""
    n = len(a[1])
    rng = np.random.default_rng(seed)
    chunk = max(1, bs.CHUNK_ELEMENTS // n)
    out = []
    for start in range(0, n_boot, chunk):
        checkpoint()
        index = rng.integers(0, n, size=(min(chunk, n_boot - start), n))
        with np.errstate(invalid="ignore", divide="ignore"):
            out.append(metric.batched(b[2])(b[0][index], b[1][index]) - metric.batched(a[2])(a[0][index], a[1][index]))
    return np.concatenate(out)


def two_sided_share(d: np.ndarray) -> Optional[float]:
    """2 min(P(d <= 0), P(d >= 0)) over the finite resampled differences, at most 1; None without any."""
    d = d[np.isfinite(d)]
    if d.size == 0:
        return None
    return float(min(1.0, 2 * min(np.mean(d <= 0), np.mean(d >= 0))))


def metric_row(metric: Metric, a: tuple, b: tuple, request: AuditComparisonRequest,
               why: dict[str, str]) -> MetricDifference:
    """One row: A's and B's value, B - A, its paired-bootstrap interval and p_boot, or why they are missing (a
    and b: (values or None, correctness, direction))."""
    value_a, value_b = point_value(metric, *a), point_value(metric, *b)
    row = dict(name=metric.name, label=metric.label, better=metric.better, a=value_a, b=value_b,
               difference=None if value_a is None or value_b is None else value_b - value_a, ci_low=None,
               ci_high=None)
    if a[0] is None or b[0] is None:
        return MetricDifference(**row, undefined="; ".join(f"{s}: {why[s]}" for s, v in (("A", a), ("B", b))
                                                           if v[0] is None))
    d = paired_differences(metric, a, b, request.n_boot, request.seed)
    interval = bs.percentile_interval(d, request.level)
    if interval is None:
        return MetricDifference(**row, undefined="no interval: the metric is undefined on most resamples (too few "
                                                 "right or wrong items among them)")
    low, high = interval
    row.update(ci_low=low, ci_high=high)
    return MetricDifference(**row, p_boot=two_sided_share(d), excludes_zero=bool(low > 0 or high < 0))


def reliability_curve(confidence: Optional[np.ndarray], hit: np.ndarray) -> Optional[ReliabilityCurve]:
    """The equal-width reliability diagram of the paired items (None without confidences)."""
    if confidence is None:
        return None
    bins = cal.reliability_bins(confidence, hit, N_BINS, "equal_width")
    return ReliabilityCurve(edges=bins.edges.tolist(), counts=bins.counts.tolist(),
                            mean_confidence=[finite(v) for v in bins.mean_confidence],
                            accuracy=[finite(v) for v in bins.accuracy])


def risk_curve(score: np.ndarray, hit: np.ndarray, direction: str) -> RiskCoverageCurve:
    """Risk against coverage, most confident first (ties in item order)."""
    curve = ed.risk_coverage(score, hit, direction)
    return RiskCoverageCurve(coverage=curve.coverage.tolist(), risk=curve.risk.tolist(), aurc=curve.aurc)


def check_work(n: int, request: AuditComparisonRequest) -> None:
    """Refuse a comparison whose n paired items x resamples passes MAX_COMPARE_WORK, saying how many fit."""
    if n * request.n_boot > MAX_COMPARE_WORK:
        raise UserInputError(f"{n} paired items x {request.n_boot} resamples is over the {MAX_COMPARE_WORK:,} one "
                             f"comparison computes: ask for at most {MAX_COMPARE_WORK // n} resamples (n_boot)")


def compare_sides(a: AuditSide, b: AuditSide, request: AuditComparisonRequest) -> AuditComparison:
    """The comparison of side B against side A (see the module docstring); UserInputError when the datasets
    differ, no item is shared, fewer than 2 pairs were scored by both methods, or the work is over the cap."""
    if a.audit_id == b.audit_id and a.method.name == b.method.name:
        raise UserInputError(f"both sides are {a.method.name} of audit {a.audit_id}: pick another method for one "
                             f"side, or another audit")
    notes = check_same_dataset(a, b)
    pairs, only_a, only_b = pair_positions(a.items, b.items)
    if not pairs:
        raise UserInputError(f"audits {a.audit_id} ({len(a.items)} items kept) and {b.audit_id} ({len(b.items)}) "
                             f"of {a.dataset_id} share no item id: run them on the same items (the same limit)")
    scored = [(i, j) for i, j in pairs if a.items[i].scores.get(a.method.name) is not None
              and b.items[j].scores.get(b.method.name) is not None]
    if len(scored) < 2:
        raise UserInputError(f"only {len(scored)} of the {len(pairs)} paired items have both {a.method.name} (A) and "
                             f"{b.method.name} (B) scores: a comparison needs at least 2")
    check_work(len(scored), request)
    sides, why, summaries = {}, {}, {}
    for letter, side, positions in (("A", a, [i for i, _ in scored]), ("B", b, [j for _, j in scored])):
        score, hit = side_arrays(side, positions)
        confidence, source = calibration_confidence(side.method, score, hit, side.seed)
        sides[letter], why[letter] = (score, hit, confidence), source
        summaries[letter] = ComparedSide(
            audit_id=side.audit_id, model_id=side.model_id, method=side.method.name, label=side_label(letter, side),
            higher_is=side.method.higher_is, is_probability=side.method.is_probability, confidence_source=source,
            kept_items=len(side.items),
            accuracy=float(hit.mean()))
    rows = []
    for metric in METRICS:
        args = [(inputs_of(metric, sides[s][0], sides[s][2]), sides[s][1], (a, b)[s == "B"].method.higher_is)
                for s in ("A", "B")]
        rows.append(metric_row(metric, args[0], args[1], request, why))
    if a.audit_id == b.audit_id:
        notes.append("both sides are one audit: the same answers and grading, so accuracy is equal and every "
                     "difference is the two methods' alone")
    if len(scored) < len(pairs):
        notes.append(f"{len(pairs) - len(scored)} paired items lack a score of one method and are left out")
    return AuditComparison(
        dataset_id=a.dataset_id, a=summaries["A"], b=summaries["B"], paired_items=len(scored), only_a=only_a,
        only_b=only_b, unscored=len(pairs) - len(scored), n_boot=request.n_boot, seed=request.seed,
        level=request.level, binning=BINNING, metrics=rows,
        reliability=ReliabilityPair(a=reliability_curve(sides["A"][2], sides["A"][1]),
                                    b=reliability_curve(sides["B"][2], sides["B"][1])),
        risk_coverage=RiskCoveragePair(a=risk_curve(sides["A"][0], sides["A"][1], a.method.higher_is),
                                       b=risk_curve(sides["B"][0], sides["B"][1], b.method.higher_is)),
        notes=notes)
