"""Image audits with the real EfficientNet-Lite0 on a tiny labelled zip of scikit-image photos: the numbers agree
with the Image page's own analyses, a stopped audit resumes, and the command line writes JSON and HTML."""
from __future__ import annotations

import json

import numpy as np
import pytest

from backend.analyses import calibration as cal
from backend.audit import runner
from backend.audit.image_audit import class_columns
from backend.audit.store import AuditStore
from backend.cli import main
from backend.errors import UserInputError
from backend.schemas import DEFAULT_IMAGE_MODEL, ImageRequest
from backend.schemas.audit import AuditRequest
from backend.schemas.image import UncertaintyRequest
from tests.backend.audit.photo_zips import labelled_entries, photo, write_labelled_zip, zip_bytes

METHODS = ["softmax", "predictive_entropy", "margin", "mc_dropout_prob", "mc_dropout_mi", "tta_prob", "tta_mi"]


def test_class_columns_keep_the_audited_classes_and_the_rest():
    probs = np.array([[0.1, 0.2, 0.3, 0.4], [0.7, 0.1, 0.1, 0.1]])
    assert np.allclose(class_columns(probs, [3, 0]), [[0.4, 0.1, 0.5], [0.1, 0.7, 0.2]])
    assert np.allclose(class_columns(probs, [0, 1, 2, 3]), probs)  # every class audited: no rest column


@pytest.mark.slow
def test_image_audit_agrees_with_the_image_page_and_resumes(tmp_path, engine):
    path = write_labelled_zip(tmp_path / "photos.zip")
    request = AuditRequest(dataset=f"images:{path}", model=DEFAULT_IMAGE_MODEL, methods=METHODS, batch_size=2,
                           samples=3, seed=0)
    store = AuditStore(f"sqlite:///{tmp_path}/audit.sqlite")
    started = runner.start_audit(request, engine, store)
    assert (started.total, started.done) == (4, 0)
    first = runner.next_batch(request, engine, store)
    assert (first.done, first.computed) == (2, 2) and not first.complete
    assert runner.summarize_audit(request, store).n == 2
    assert runner.next_batch(request, engine, store).complete
    assert runner.next_batch(request, engine, store).computed == 0  # nothing left, nothing redone
    result = runner.summarize_audit(request, store)
    assert result.model_id == DEFAULT_IMAGE_MODEL and result.dataset_id == "photos.zip" and result.n == 4
    by_id = {item.id: item for item in result.items}
    coffee = by_id["967/coffee.jpg"]
    assert coffee.answer == "espresso" and coffee.correct and coffee.answers == ["espresso"]
    assert by_id["n03773504/rocket.jpg"].answers == ["missile"]
    entries = labelled_entries()
    for item in result.items:
        upload = {"data": entries[item.id], "filename": item.id}
        alone = engine.analyze_image(ImageRequest(image=upload, top_k=1))
        # one batched pass vs. one image alone: float32 convolutions differ in the last digits
        assert item.answer == alone.top_k[0].label
        assert item.scores["softmax"] == pytest.approx(alone.top_k[0].prob, abs=1e-5)
        assert item.scores["predictive_entropy"] == pytest.approx(alone.entropy, abs=1e-5)
        dropout = engine.image_uncertainty(UncertaintyRequest(image=upload, method="mc_dropout", passes=3, seed=0,
                                                              top_k=10))
        predicted = next(c for c in dropout.classes if c.index == alone.top_k[0].index)
        assert item.scores["mc_dropout_prob"] == pytest.approx(predicted.mean)
        assert item.scores["mc_dropout_mi"] == pytest.approx(dropout.mutual_information, abs=1e-9)
        assert len(item.probs) == 4 and sum(item.probs) == pytest.approx(1.0)  # 3 classes + the rest
    softmax = result.metrics["softmax"]
    probs, labels = np.array([i.probs for i in result.items]), np.array([i.label for i in result.items])
    correct = np.array([i.correct for i in result.items], dtype=float)
    assert softmax.ece == pytest.approx(cal.expected_calibration_error([i.scores["softmax"] for i in result.items],
                                                                       correct, 10))
    assert softmax.classwise_ece == pytest.approx(cal.classwise_ece(probs, labels, 10, classes=[0, 1, 2]))
    assert softmax.multiclass_nll == pytest.approx(-np.mean(np.log(probs[np.arange(4), labels])))
    assert result.metrics["tta_mi"].auroc is not None and "class_probabilities" in result.extra


@pytest.mark.slow
def test_labels_and_models_that_do_not_fit_fail_before_anything_runs(tmp_path, engine):
    path = tmp_path / "kitty.zip"
    path.write_bytes(zip_bytes({"kitty/cat.png": photo("cat"), "espresso/coffee.png": photo("coffee")}))
    store = AuditStore(f"sqlite:///{tmp_path}/audit.sqlite")
    request = AuditRequest(dataset=f"images:{path}", model=DEFAULT_IMAGE_MODEL, methods=["softmax"])
    with pytest.raises(UserInputError, match="'kitty'.*Rename each folder"):
        runner.start_audit(request, engine, store)
    with pytest.raises(UserInputError, match="is a text model; pick an image model"):
        runner.start_audit(request.model_copy(update={"model": "smollm2-135m-instruct"}), engine, store)
    with pytest.raises(UserInputError, match="unknown method 'semantic_entropy'; not an image method"):
        runner.plan_audit(request.model_copy(update={"methods": ["semantic_entropy"]}))


@pytest.mark.slow
def test_cli_image_audit_writes_json_and_html(tmp_path, capsys, monkeypatch, engine):
    monkeypatch.setattr("backend.engine.Engine", lambda: engine)  # the session's loaded models, not a second copy
    path = write_labelled_zip(tmp_path / "photos.zip", prefix="photos/")
    out, report = tmp_path / "out.json", tmp_path / "report.html"
    assert main(["audit", "--dataset", f"images:{path}", "--limit", "3", "--json", str(out),
                 "--html", str(report)]) == 0
    data = json.loads(out.read_text())
    assert data["n"] == 3 and data["model_id"] == DEFAULT_IMAGE_MODEL
    assert set(data["metrics"]) == {"softmax", "predictive_entropy", "margin"}
    assert data["metrics"]["softmax"]["classwise_ece"] is not None
    assert [item["question"] for item in data["items"]] == ["967/coffee.jpg", "Tiger_Cat/chelsea-flipped.jpg",
                                                            "n03773504/rocket.jpg"]
    assert "audit" in capsys.readouterr().err
    assert data["audit_id"] in report.read_text()
    assert main(["audit", "--dataset", f"images:{tmp_path / 'nothing-here'}"]) == 2
    assert "no image dataset" in capsys.readouterr().err
