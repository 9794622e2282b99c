"""An audit's label issues (backend.decisions.label_issues) with a small image of each of the first issues.

Only classifier audits get a report: the digits classifier (10 classes, no other column) and labelled images (the
dataset's classes, plus the model's other classes when it has more; see label_issues.last_column_is_other). The
first MAX_THUMBNAILS issues carry their image as a data: URL, so the page, the JSON and the HTML report show it
wherever they run (over HTTP the front end has no access to the dataset): a digit's 8x8 pixels as an
8-times-enlarged grey PNG (ink dark on white), a photo as a JPEG at most THUMBNAIL_SIDE pixels on its long side,
read from the dataset as the audit read it (ImageFolder.read, checked by backend.image.input.open_checked) and
cached per dataset version.
"""
from __future__ import annotations

import base64
import io
from functools import lru_cache
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
from PIL import Image, ImageOps

from backend.audit import digits as digits_data
from backend.audit.datasets import Dataset
from backend.audit.image_folders import ImageFolder, LabelledImage
from backend.decisions.label_issues import label_issue_report, last_column_is_other
from backend.errors import UserInputError
from backend.image.input import open_checked
from backend.schemas.audit import AuditItem
from backend.schemas.label_issues import LabelIssueReport

MAX_THUMBNAILS = 50
THUMBNAIL_SIDE = 96
DIGIT_SCALE = 8
DIGIT_NAMES = [str(k) for k in range(10)]


def data_url(image: Image.Image, fmt: str) -> str:
    """The image encoded as PNG or JPEG in a data: URL."""
    buffer = io.BytesIO()
    image.save(buffer, fmt, **({"quality": 85} if fmt == "JPEG" else {}))
    return f"data:image/{fmt.lower()};base64,{base64.b64encode(buffer.getvalue()).decode('ascii')}"


def digit_thumbnail(position: int) -> str:
    """The held-out digit at this position of the audit as a (64, 64) grey PNG data: URL, ink dark on white."""
    pixels = digits_data.split()[1][position].reshape(8, 8)
    grey = Image.fromarray(np.round(255 * (1.0 - pixels)).astype(np.uint8))
    return data_url(grey.resize((8 * DIGIT_SCALE, 8 * DIGIT_SCALE), Image.Resampling.NEAREST), "PNG")


@lru_cache(maxsize=4 * MAX_THUMBNAILS)
def _photo_thumbnail(source: Path, is_zip: bool, top: str, path: str, sha256: str) -> Optional[str]:
    """A photo of the dataset (one version of it: sha256) as a JPEG data: URL; None when it no longer decodes."""
    data = next(ImageFolder(source, is_zip, top, (), sha256).read([LabelledImage(path, "")]))
    try:
        image = open_checked(data)
        image.draft("RGB", (THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        image = ImageOps.exif_transpose(image).convert("RGB")
    except (UserInputError, OSError, ValueError):
        return None
    image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    return data_url(image, "JPEG")


def photo_thumbnail(folder: ImageFolder, position: int) -> Optional[str]:
    """The image at this position of a labelled image dataset as a JPEG data: URL, at most THUMBNAIL_SIDE pixels
    on its long side (None when it no longer decodes)."""
    return _photo_thumbnail(folder.source, folder.is_zip, folder.top, folder.images[position].path, folder.sha256)


def with_thumbnails(report: LabelIssueReport, dataset: Dataset) -> LabelIssueReport:
    """The report with the images of its first MAX_THUMBNAILS issues."""
    def thumbnail(position: int) -> Optional[str]:
        return digit_thumbnail(position) if dataset.kind == "digits" else photo_thumbnail(dataset.images, position)

    issues = [issue.model_copy(update={"thumbnail": thumbnail(issue.index)}) if issue.rank <= MAX_THUMBNAILS
              else issue for issue in report.issues]
    return report.model_copy(update={"issues": issues})


def audit_label_issues(dataset: Dataset, items: Sequence[AuditItem]) -> Optional[LabelIssueReport]:
    """The label issues of a classifier audit's items (digits, labelled images), with images; None for any other
    audit (questions, precomputed scores)."""
    if dataset.kind == "digits":
        return with_thumbnails(label_issue_report(items, class_names=DIGIT_NAMES), dataset)
    if dataset.kind == "images":
        other = bool(items) and items[0].probs is not None and last_column_is_other(items)
        return with_thumbnails(label_issue_report(items, other_column=other), dataset)
    return None
