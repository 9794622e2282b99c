"""Label issues of a classifier audit: the items whose given label is likely wrong, by Confident Learning
(Northcutt, Jiang & Chuang, "Confident Learning: Estimating Uncertainty in Dataset Labels", JAIR 70, 2021), as
cleanlab implements it.

Input: the audit's items, each with its class probabilities AuditItem.probs (L,) and its given label (a column
index). What cleanlab gets: the (N, K) probabilities of the dataset's K classes, each row renormalised to sum to 1.
For an image audit the stored rows hold K + 1 columns when the model has other classes (the last one is their total
mass, see backend.audit.image_audit); that column is dropped before renormalising, so "most likely" means most
likely among the dataset's classes, and every issue keeps the dropped mass (LabelIssue.other_mass).

Found by cleanlab.filter.find_label_issues(filter_by="prune_by_noise_rate"), cleanlab's default and the paper's
"prune by noise rate": the confident joint counts, for each given class j and class k, the items labelled j whose
p_k reaches class k's threshold (the mean p_k of the items labelled k); for each off-diagonal (j, k) that many items
labelled j, those with the largest margin p_k - p_j, are flagged. It flags only items the model confidently puts in
another class (an item whose given label is its most likely class is never flagged), and it estimates how many
issues there are rather than taking a fixed count or a cut-off.

Ranked by cleanlab.rank.get_label_quality_scores(method="self_confidence"): an item's label quality is the
probability of its given label, lowest first (find_label_issues' return_indices_ranked_by="self_confidence", so
the order is cleanlab's own). Self-confidence is cleanlab's default score, among the best in Kuan & Mueller's
comparison ("Model-agnostic label quality scoring", 2022), and the easiest to read: it is a number the person
sees in the item's probabilities. cleanlab runs with n_jobs=1: no worker processes are forked from a process that
holds models.

Refused, with what to change: items without class probabilities (not a classifier audit), fewer than MIN_ITEMS
items, fewer than 2 classes among the given labels.
"""
from __future__ import annotations

import warnings
from typing import Optional, Sequence

import cleanlab
import numpy as np
from cleanlab.filter import find_label_issues
from cleanlab.rank import get_label_quality_scores

from backend.schemas.audit import AuditItem
from backend.schemas.label_issues import LabelIssue, LabelIssueReport

FILTER_BY = "prune_by_noise_rate"
RANKED_BY = "self_confidence"
MIN_ITEMS = 20
MIN_PER_CLASS = 5
SMALL_CLASS_WARNING = "May not flag all label issues in class"  # cleanlab's, for classes of 0 or 1 items
METHOD = (f"Confident Learning (Northcutt et al. 2021) with cleanlab {cleanlab.__version__}: "
          f"filter.find_label_issues(filter_by='{FILTER_BY}') flags the items the model confidently puts in another "
          f"class, as many as the confident joint estimates are mislabelled; ranked by label quality = "
          f"self-confidence (rank.get_label_quality_scores(method='{RANKED_BY}'), the probability of the given "
          f"label), lowest first")
OUT_OF_SAMPLE = ("The probabilities are out-of-sample: the model never trained on the audited items (the digits "
                 "classifier trained on the other 70 % of scikit-learn's digits; an image model is taken not to have "
                 "seen your images). Probabilities of training items are overconfident in their given labels, so "
                 "issues among them are missed.")
ONE_TRUE_CLASS = ("Each item belongs to exactly one of the dataset's classes, and how often a label is wrong "
                  "depends on the true class only (class-conditional label noise, Confident Learning's assumption).")
A_SUGGESTION = ("A flagged item is one to look at, not a verdict: where the model is wrong, not the label, it is "
                "flagged too.")
OTHER_DROPPED = ("The model's probability of its classes outside the dataset (the last column of the stored "
                 "probabilities) is dropped and the dataset's classes renormalised, so 'most likely' means most "
                 "likely among the dataset's classes; 'other classes' shows the mass dropped.")
NOT_CLASSIFIER = ("label issues need every item's class probabilities and given label: only classifier audits "
                  "(the digits classifier, labelled images) have them")


def label_matrix(items: Sequence[AuditItem],
                 other_column: bool) -> tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]:
    """(labels (N,), probabilities (N, K) renormalised over the dataset's K classes, dropped mass (N,) or None).

    other_column: the last of the L stored columns is the mass of the model's other classes (K = L - 1), else
    K = L. A row with no mass on the dataset's classes becomes uniform."""
    stored = np.array([item.probs for item in items], dtype=np.float64)
    labels = np.array([item.label for item in items], dtype=np.int64)
    kept, other = (stored[:, :-1], stored[:, -1]) if other_column else (stored, None)
    kept = np.clip(kept, 0.0, None)
    totals = kept.sum(axis=1, keepdims=True)
    uniform = np.full_like(kept, 1.0 / kept.shape[1])
    probs = np.divide(kept, totals, out=uniform, where=totals > 0)
    return labels, probs, other


def last_column_is_other(items: Sequence[AuditItem]) -> bool:
    """Whether an image audit's last stored column is the model's other classes: no item is labelled with it.

    Every class column of an image audit is some class folder's, and the images come round-robin over the folders,
    so once the audit holds at least one item per folder every class column is some item's label; a last column
    that none is labelled with is the mass of the model's other classes (image_audit.class_columns)."""
    width = len(items[0].probs)
    return not any(item.label == width - 1 for item in items)


def class_names_of(items: Sequence[AuditItem], n_classes: int) -> list[str]:
    """(K,) each class column's name from an item labelled with it (its accepted answer), else 'class k'."""
    names = {item.label: item.answers[0] for item in items if item.answers}
    return [names.get(k, f"class {k}") for k in range(n_classes)]


def data_refusal(items: Sequence[AuditItem]) -> Optional[str]:
    """Why these items are no data for label issues (none yet, no class probabilities), or None."""
    if not items:
        return "the audit has no finished items yet: run it first"
    if any(item.probs is None or item.label is None for item in items):
        return NOT_CLASSIFIER
    return None


def size_refusal(labels: np.ndarray, names: Sequence[str]) -> Optional[str]:
    """Why these given labels are too few for Confident Learning (and what to change), or None."""
    if len(labels) < MIN_ITEMS:
        return (f"only {len(labels)} items: Confident Learning estimates each class's threshold and how many labels "
                f"are wrong from the items themselves, which needs at least {MIN_ITEMS}; audit more items")
    given = np.unique(labels)
    if len(given) < 2:
        return (f"every item is labelled {names[given[0]]!r}: with one class among the given labels no label can "
                f"be told wrong from another; audit items of at least 2 classes")
    return None


def few_items_warning(labels: np.ndarray, names: Sequence[str]) -> list[str]:
    """A caveat naming the given classes with fewer than MIN_PER_CLASS items (their thresholds are noisy; cleanlab
    never flags the only item of a class)."""
    counts = np.bincount(labels, minlength=len(names))
    few = [f"{names[k]} ({counts[k]})" for k in range(len(names)) if 0 < counts[k] < MIN_PER_CLASS]
    if not few:
        return []
    alone = ", and an item alone in its class is never flagged" if (counts == 1).any() else ""
    return [f"classes with fewer than {MIN_PER_CLASS} labelled items, whose thresholds (the mean probability of the "
            f"class over its items) are noisy{alone}: {', '.join(few)}"]


def ranked_issues(labels: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(positions of the likely label issues, most likely wrong first; label quality (N,) of every item)."""
    with warnings.catch_warnings():  # said once, by few_items_warning, for the classes given at all
        warnings.filterwarnings("ignore", message=SMALL_CLASS_WARNING, category=UserWarning)
        ranked = find_label_issues(labels, probs, filter_by=FILTER_BY, return_indices_ranked_by=RANKED_BY,
                                   n_jobs=1)
    return np.asarray(ranked, dtype=np.int64), get_label_quality_scores(labels, probs, method=RANKED_BY)


def label_issue_report(items: Sequence[AuditItem], *, other_column: bool = False,
                       class_names: Optional[Sequence[str]] = None) -> LabelIssueReport:
    """The ranked likely label issues of a classifier audit's items, or a report saying why there are none.

    other_column: the items' last probability column is the mass of the model's other classes (an image audit of
    a model with more classes than the dataset: see last_column_is_other). class_names: (K,) names of the class
    columns (default: from the items' accepted answers)."""
    assumptions = [OUT_OF_SAMPLE, ONE_TRUE_CLASS, A_SUGGESTION] + ([OTHER_DROPPED] if other_column else [])
    reason = data_refusal(items)
    if reason is not None:
        return LabelIssueReport(n_items=len(items), method=METHOD, assumptions=assumptions, refused=reason)
    labels, probs, other = label_matrix(items, other_column)
    names = list(class_names) if class_names is not None else class_names_of(items, probs.shape[1])
    reason = size_refusal(labels, names)
    if reason is not None:
        return LabelIssueReport(n_items=len(items), n_classes=len(names), class_names=names, method=METHOD,
                                assumptions=assumptions, refused=reason)
    positions, quality = ranked_issues(labels, probs)
    issues = []
    for rank, position in enumerate(positions, start=1):
        item, row = items[position], probs[position]
        given, predicted = int(labels[position]), int(row.argmax())
        issues.append(LabelIssue(
            rank=rank, index=item.index, id=item.id, given_label=given, given_name=names[given],
            given_prob=float(row[given]), predicted_label=predicted, predicted_name=names[predicted],
            predicted_prob=float(row[predicted]), quality=float(quality[position]),
            other_mass=None if other is None else float(other[position]), model_answer=item.answer,
            probs=row.tolist()))
    return LabelIssueReport(n_items=len(items), n_classes=len(names), class_names=names, issues=issues,
                            method=METHOD, assumptions=assumptions, warnings=few_items_warning(labels, names))
