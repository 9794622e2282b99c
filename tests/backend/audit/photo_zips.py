"""Tiny labelled image datasets built on the fly from scikit-image's bundled photos (no download)."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Mapping

import numpy as np
from PIL import Image
from skimage import data as skimage_data

PHOTOS = {"cat": skimage_data.chelsea, "coffee": skimage_data.coffee, "rocket": skimage_data.rocket,
          "astronaut": skimage_data.astronaut}
# class folder -> photos: a class name with a different case and spacing, a class index, a WordNet id
LABELLED = {"Tiger_Cat/chelsea.png": "cat", "Tiger_Cat/chelsea-flipped.jpg": "cat-flipped",
            "967/coffee.jpg": "coffee", "n03773504/rocket.jpg": "rocket"}


def photo(name: str, fmt: str = "PNG") -> bytes:
    """A bundled photo ("cat", "coffee", ...; "-flipped" mirrors it) encoded as PNG or JPEG."""
    base, _, flipped = name.partition("-")
    pixels = PHOTOS[base]()
    if flipped:
        pixels = np.ascontiguousarray(pixels[:, ::-1])
    buffer = io.BytesIO()
    Image.fromarray(pixels).convert("RGB").save(buffer, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def zip_bytes(entries: Mapping[str, bytes]) -> bytes:
    """A zip holding these member names and bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def labelled_entries(prefix: str = "") -> dict[str, bytes]:
    """The LABELLED photos as zip members (optionally inside one top folder)."""
    return {prefix + path: photo(name, "JPEG" if path.endswith(".jpg") else "PNG") for path, name in LABELLED.items()}


def write_labelled_zip(path: Path, prefix: str = "") -> Path:
    """A labelled zip of 4 photos in 3 classes at path."""
    path.write_bytes(zip_bytes(labelled_entries(prefix)))
    return path
