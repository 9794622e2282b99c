"""An audit's label issues: classifier audits only, each of the first issues with its image (a digit's 8x8 pixels
enlarged, a photo's thumbnail read from the zip), and a real digits audit carrying them into the result, the JSON,
the terminal summary and the HTML report."""
from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from backend.audit import digits as digits_data
from backend.audit import label_issues_audit as lia
from backend.audit import runner
from backend.audit.datasets import image_dataset, load_dataset
from backend.audit.report import render_report
from backend.audit.store import AuditStore
from backend.cli.audit import format_summary, result_json
from backend.engine import Engine
from backend.schemas.audit import BUILTIN_QA, AuditItem, AuditRequest
from tests.backend.audit.photo_zips import photo, zip_bytes


def decoded(url: str) -> Image.Image:
    """The image of a data: URL."""
    header, data = url.split(";base64,", 1)
    assert header in ("data:image/png", "data:image/jpeg")
    return Image.open(io.BytesIO(base64.b64decode(data)))


def digit_items(n: int = 60, flipped=(4, 9, 23)) -> list[AuditItem]:
    """Items of the first n held-out digits with a confident model that knows the true class, and the labels of
    `flipped` moved by one."""
    labels = digits_data.split()[3][:n].copy()
    items = []
    for i in range(n):
        probs = np.full(10, 0.01)
        probs[labels[i]] = 0.91
        given = (labels[i] + 1) % 10 if i in flipped else labels[i]
        items.append(AuditItem(index=i, id=f"digit-{i}", question="", answers=[str(given)], answer=str(labels[i]),
                               correct=given == labels[i], grading="label", scores={}, probs=probs.tolist(),
                               label=int(given)))
    return items


def test_a_digits_audit_gets_its_issues_with_each_digit_drawn(monkeypatch):
    monkeypatch.setattr(lia, "MAX_THUMBNAILS", 2)
    report = lia.audit_label_issues(load_dataset("builtin-digits"), digit_items())
    assert sorted(issue.index for issue in report.issues) == [4, 9, 23]
    assert report.class_names == [str(k) for k in range(10)]
    first = report.issues[0]
    image = decoded(first.thumbnail)
    assert image.size == (64, 64) and image.mode == "L"
    pixels = digits_data.split()[1][first.index].reshape(8, 8)
    drawn = np.asarray(image)[::8, ::8]  # one pixel of each 8x8 block
    assert drawn.tolist() == np.round(255 * (1.0 - pixels)).astype(np.uint8).tolist()
    assert report.issues[1].thumbnail is not None and report.issues[2].thumbnail is None


def test_a_photo_zips_issues_carry_thumbnails_from_the_zip(tmp_path):
    entries = {f"{folder}/{i}.jpg": photo(name, "JPEG") for folder, name in (("cat", "cat"), ("cup", "coffee"))
               for i in range(12)}
    path = tmp_path / "photos.zip"
    path.write_bytes(zip_bytes(entries))
    dataset = image_dataset(path, "photos.zip")
    items = []
    for position, image in enumerate(dataset.images.images):
        label = 0 if image.folder == "cat" else 1
        truth = 1 - label if position in (5, 14) else label  # two photos in the wrong folder
        probs = [0.8 if truth == 0 else 0.05, 0.8 if truth == 1 else 0.05, 0.15]
        items.append(AuditItem(index=position, id=image.path, question=image.path, answers=[image.folder],
                               answer="x", correct=truth == label, grading="label", scores={}, probs=probs,
                               label=label))
    report = lia.audit_label_issues(dataset, items)
    assert sorted(issue.index for issue in report.issues) == [5, 14]
    assert report.n_classes == 2 and report.class_names == ["cat", "cup"]
    assert report.issues[0].other_mass == pytest.approx(0.15)
    thumbnail = decoded(report.issues[0].thumbnail)
    assert thumbnail.format == "JPEG" and max(thumbnail.size) == lia.THUMBNAIL_SIDE


def test_audits_without_class_probabilities_get_no_report():
    assert lia.audit_label_issues(load_dataset(BUILTIN_QA), []) is None


def test_a_real_digits_audit_lists_its_issues_in_the_result_json_summary_and_report(tmp_path):
    request = AuditRequest(dataset="builtin-digits", methods=["softmax"], batch_size=64)
    result = runner.run_audit(request, Engine(device="cpu"), AuditStore(f"sqlite:///{tmp_path}/audit.sqlite"))
    report = result.label_issues
    assert report is not None and report.refused is None and report.n_items == result.n == digits_data.test_size()
    by_index = {item.index: item for item in result.items}
    for issue in report.issues:
        item = by_index[issue.index]
        assert issue.given_label == item.label and issue.given_prob == pytest.approx(item.probs[item.label])
        assert issue.predicted_label != item.label
    assert [issue.quality for issue in report.issues] == sorted(issue.quality for issue in report.issues)
    assert result_json(result)["label_issues"]["issues"][0]["id"] == report.issues[0].id
    assert f"{len(report.issues)} likely label issues among {result.n} items" in format_summary(result)
    html = render_report(result)
    assert "<h2>Label issues (Confident Learning)</h2>" in html and report.issues[0].thumbnail in html
