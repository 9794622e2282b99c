"""Label issues by Confident Learning: flipped labels of a synthetic audit are found and ranked first, in the order
and with the scores cleanlab itself gives (the independent reference); an image audit's column for the model's
other classes is dropped and the rest renormalised; too little data is refused with what to change."""
from __future__ import annotations

import numpy as np
import pytest
from cleanlab.filter import find_label_issues
from cleanlab.rank import get_label_quality_scores

from backend.decisions import label_issues as li
from backend.schemas.audit import AuditItem

N, K = 90, 3
FLIPPED = {7: 0.01, 31: 0.03, 52: 0.02, 80: 0.04}  # item -> the probability the model gives its (wrong) given label


def classifier_item(index: int, probs, label: int, names=("cat", "dog", "fox")) -> AuditItem:
    """An audit item of a classifier: its class probabilities and given label."""
    predicted = int(np.argmax(probs))
    return AuditItem(index=index, id=f"img-{index}", question=f"image {index}", answers=[names[label]],
                     answer=names[predicted] if predicted < len(names) else "other", correct=predicted == label,
                     grading="label", scores={"softmax": float(max(probs))}, probs=list(map(float, probs)),
                     label=label)


def synthetic(flipped=FLIPPED, n=N) -> tuple[list[AuditItem], np.ndarray, np.ndarray]:
    """(items, their probabilities (n, K), their given labels (n,)): a confident model (0.9 on the true class, a
    little seeded noise) and the labels of `flipped` moved to the next class, where the model gives p_given."""
    rng = np.random.default_rng(0)
    true = np.arange(n) % K
    probs = np.full((n, K), 0.05)
    probs[np.arange(n), true] = 0.9
    probs += rng.uniform(0.0, 0.01, probs.shape)
    labels = true.copy()
    for index, p_given in flipped.items():
        labels[index] = (true[index] + 1) % K
        probs[index] = 0.0
        probs[index, labels[index]] = p_given
        probs[index, (true[index] + 2) % K] = 0.02
        probs[index, true[index]] = 1.0 - p_given - 0.02
    probs /= probs.sum(axis=1, keepdims=True)
    return [classifier_item(i, probs[i], int(labels[i])) for i in range(n)], probs, labels


def test_flipped_labels_are_found_and_ranked_by_the_given_labels_probability():
    items, probs, labels = synthetic()
    report = li.label_issue_report(items)
    assert report.refused is None and report.n_items == N and report.n_classes == K
    assert report.class_names == ["cat", "dog", "fox"]
    by_hand = sorted(FLIPPED, key=FLIPPED.get)  # self-confidence, lowest first: 7 (0.01), 52, 31, 80 (0.04)
    assert [issue.index for issue in report.issues] == by_hand == [7, 52, 31, 80]
    assert [issue.rank for issue in report.issues] == [1, 2, 3, 4]
    first = report.issues[0]
    true = 7 % K
    assert first.given_label == (true + 1) % K and first.given_name == "fox"
    assert first.predicted_label == true and first.predicted_name == "dog"
    assert first.given_prob == pytest.approx(0.01) and first.quality == pytest.approx(0.01)
    assert first.predicted_prob == pytest.approx(0.97) and first.probs == pytest.approx(probs[7].tolist())
    assert first.other_mass is None and first.id == "img-7" and first.model_answer == "dog"
    assert "prune_by_noise_rate" in report.method and "self_confidence" in report.method
    assert any("out-of-sample" in text for text in report.assumptions)


def test_the_same_issues_in_the_same_order_as_cleanlab_called_directly():
    items, probs, labels = synthetic({i: 0.02 + 0.001 * i for i in range(3, N, 11)})
    report = li.label_issue_report(items)
    reference = find_label_issues(labels, probs, filter_by="prune_by_noise_rate",
                                  return_indices_ranked_by="self_confidence", n_jobs=1)
    scores = get_label_quality_scores(labels, probs, method="self_confidence")
    assert [issue.index for issue in report.issues] == reference.tolist()
    assert len(reference) == len(range(3, N, 11))
    assert [issue.quality for issue in report.issues] == pytest.approx(scores[reference].tolist(), abs=1e-15)


def test_noisy_but_unflipped_labels_give_no_issue():
    items, _, _ = synthetic({})
    report = li.label_issue_report(items)
    assert report.refused is None and report.issues == []


def test_an_image_audits_other_column_is_dropped_and_the_rest_renormalised():
    items, probs, labels = synthetic()
    other = np.linspace(0.0, 0.5, N)  # the model's mass on its classes outside the dataset
    stored = np.concatenate([probs * (1.0 - other)[:, None], other[:, None]], axis=1)
    image_items = [classifier_item(i, stored[i], int(labels[i])) for i in range(N)]
    assert li.last_column_is_other(image_items)
    report = li.label_issue_report(image_items, other_column=True)
    assert report.n_classes == K and len(report.issues[0].probs) == K
    assert [issue.index for issue in report.issues] == [7, 52, 31, 80]
    first = report.issues[0]
    assert first.probs == pytest.approx(probs[7].tolist()) and sum(first.probs) == pytest.approx(1.0)
    assert first.other_mass == pytest.approx(other[7])
    assert any("dropped and the dataset's classes renormalised" in text for text in report.assumptions)
    _, renormalised, _ = li.label_matrix(image_items, other_column=True)
    reference = find_label_issues(labels, renormalised, filter_by="prune_by_noise_rate",
                                  return_indices_ranked_by="self_confidence", n_jobs=1)
    assert [issue.index for issue in report.issues] == reference.tolist()


def test_renormalising_by_hand_and_a_row_with_no_mass_on_the_datasets_classes():
    items = [classifier_item(0, [0.2, 0.1, 0.0, 0.7], 0), classifier_item(1, [0.0, 0.0, 0.0, 1.0], 2)]
    labels, probs, other = li.label_matrix(items, other_column=True)
    assert labels.tolist() == [0, 2] and other.tolist() == [0.7, 1.0]
    assert probs[0] == pytest.approx([2 / 3, 1 / 3, 0.0])
    assert probs[1] == pytest.approx([1 / 3, 1 / 3, 1 / 3])


def test_a_last_column_someone_is_labelled_with_is_a_class():
    items = [classifier_item(0, [0.2, 0.1, 0.7], 2), classifier_item(1, [0.8, 0.1, 0.1], 0)]
    assert not li.last_column_is_other(items)
    assert li.last_column_is_other(items[1:])


def test_class_names_come_from_the_items_or_say_the_column():
    items = [classifier_item(0, [0.5, 0.3, 0.2], 0), classifier_item(1, [0.1, 0.3, 0.6], 2)]
    assert li.class_names_of(items, 3) == ["cat", "class 1", "fox"]


def test_a_question_audit_is_refused_as_no_classifier():
    items, _, _ = synthetic()
    questions = [item.model_copy(update={"probs": None, "label": None}) for item in items]
    report = li.label_issue_report(questions)
    assert report.refused == li.NOT_CLASSIFIER and "class probabilities" in report.refused and not report.issues


def test_too_few_items_or_one_class_or_none_are_refused_with_what_to_change():
    items, _, _ = synthetic()
    few = li.label_issue_report(items[:li.MIN_ITEMS - 1])
    assert few.refused.startswith(f"only {li.MIN_ITEMS - 1} items") and "audit more items" in few.refused
    assert li.label_issue_report(items[:li.MIN_ITEMS]).refused is None
    one_class = [item for item in items if item.label == 0][:li.MIN_ITEMS] * 2
    refused = li.label_issue_report(one_class).refused
    assert refused.startswith("every item is labelled 'cat'") and "at least 2 classes" in refused
    assert li.label_issue_report([]).refused.startswith("the audit has no finished items")


def test_classes_with_few_items_are_named_in_a_caveat():
    items, _, _ = synthetic({})
    fox = [item for item in items if item.label == 2][:3]
    report = li.label_issue_report([item for item in items if item.label != 2] + fox)
    assert report.refused is None
    assert report.warnings == [f"classes with fewer than {li.MIN_PER_CLASS} labelled items, whose thresholds (the "
                               f"mean probability of the class over its items) are noisy: fox (3)"]


def test_the_summary_line_counts_and_names_the_first_issues():
    items, _, _ = synthetic()
    report = li.label_issue_report(items)
    assert report.summary(top=1) == "4 likely label issues among 90 items (top: img-7 labelled 'fox', model says " \
                                    "'dog' 0.97)"
    assert li.label_issue_report(items[:3]).summary().startswith("label issues: not looked for (only 3 items")


def test_an_item_alone_in_its_class_is_never_flagged_and_the_caveat_says_so():
    items, _, _ = synthetic({})
    alone = classifier_item(N, [0.02, 0.96, 0.02], 2)  # the only fox: the model is sure it is a dog
    report = li.label_issue_report([item for item in items if item.label != 2] + [alone])
    assert report.refused is None and report.issues == []
    assert report.warnings[0].endswith("are noisy, and an item alone in its class is never flagged: fox (1)")
