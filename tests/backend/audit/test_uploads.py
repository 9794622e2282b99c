"""Uploaded audit datasets: kept by content hash, checked before they are kept, referred to by name only."""
from __future__ import annotations

import re

import pytest

from backend.audit.datasets import keep_upload, load_dataset
from backend.audit.uploads import check_served_dataset, upload_path
from backend.errors import UserInputError
from tests.backend.audit.photo_zips import labelled_entries, zip_bytes


@pytest.fixture(autouse=True)
def upload_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("UQLENS_UPLOAD_DIR", str(tmp_path / "uploads"))
    return tmp_path / "uploads"


def test_uploads_are_kept_by_content_and_audited_by_name(upload_folder):
    data = zip_bytes(labelled_entries())
    kept = keep_upload("../My Photos (1).ZIP", data)
    assert re.fullmatch(r"upload:[0-9a-f]{16}/My_Photos_1\.zip", kept.dataset)
    assert (kept.kind, kept.items, kept.filename) == ("images", 4, "../My Photos (1).ZIP")
    assert keep_upload("../My Photos (1).ZIP", data).dataset == kept.dataset  # same file, same dataset
    dataset = load_dataset(kept.dataset)
    assert dataset.sha256 == kept.sha256 and dataset.dataset_id == "My_Photos_1.zip"
    check_served_dataset(kept.dataset)
    csv = keep_upload("scores.csv", b"correct,p\n1,0.9\n0,0.2\n")
    assert (csv.kind, csv.items) == ("given", 2)
    assert sorted(p.name for p in upload_folder.glob("*/*")) == ["My_Photos_1.zip", "scores.csv"]


def test_a_bad_upload_is_refused_and_not_kept(upload_folder):
    with pytest.raises(UserInputError, match="not inside a class folder"):
        keep_upload("flat.zip", zip_bytes({"cat.png": b"x"}))
    with pytest.raises(UserInputError, match="upload a .jsonl or .csv file .* or a .zip"):
        keep_upload("photos.tar", b"x")
    assert not list(upload_folder.glob("*/*.zip"))


@pytest.mark.parametrize("name", ["/etc/passwd", "../data/uqlens.sqlite", "images:/tmp", "upload:../../x.zip",
                                  "upload:0123456789abcdef/../../x.zip", "upload:0123456789abcdef/.zip",
                                  "upload:0123456789abcdef/a.exe", "upload:0123456789abcdef/photos.zip"])
def test_the_service_accepts_only_built_in_or_uploaded_names(name):
    with pytest.raises(UserInputError, match="paths on the server are not accepted|not an uploaded dataset name|"
                                             "no uploaded dataset"):
        check_served_dataset(name)


def test_built_in_datasets_are_served():
    check_served_dataset("builtin-qa")
    check_served_dataset("builtin-digits")
    with pytest.raises(UserInputError, match="upload the file again"):
        upload_path("upload:0123456789abcdef/scores.csv")
