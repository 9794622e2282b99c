"""Files uploaded for audits (from the app, or over HTTP): kept under the uploads folder, named by their content.

An upload is referred to as "upload:<16 hex digits of its SHA-256>/<its file name>" (e.g.
upload:3f2a9c0d1e4b5a69/my-photos.zip; the name reduced to letters, digits, '.', '_' and '-'), so the same file
uploaded twice is the same dataset, a stopped audit of it resumes, and results still name the file. The folder is
UQLENS_UPLOAD_DIR, else data/uploads/ in the project. Over HTTP only these names and the built-in datasets are
accepted: a client never names a path on the server.
"""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from backend.errors import UserInputError
from backend.schemas.audit import BUILTIN_DIGITS, BUILTIN_QA
from backend.store.repository import PROJECT_ROOT

UPLOAD_PREFIX = "upload:"
UPLOAD_SUFFIXES = (".jsonl", ".csv", ".zip")
UPLOAD_NAME = re.compile(r"^[0-9a-f]{16}/[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.(jsonl|csv|zip)$")
UNSAFE_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")


def upload_dir() -> Path:
    """UQLENS_UPLOAD_DIR, else data/uploads/ under the project folder."""
    return Path(os.environ.get("UQLENS_UPLOAD_DIR") or PROJECT_ROOT / "data" / "uploads")


def upload_path(name: str) -> Path:
    """The file of an "upload:..." dataset name; UserInputError for any other form (never a path)."""
    inner = name[len(UPLOAD_PREFIX):]
    if not name.startswith(UPLOAD_PREFIX) or not UPLOAD_NAME.match(inner):
        raise UserInputError(f"{name[:80]!r} is not an uploaded dataset name such as "
                             f"upload:3f2a9c0d1e4b5a69/photos.zip; upload the file first")
    path = upload_dir() / inner
    if not path.is_file():
        raise UserInputError(f"no uploaded dataset {name!r} on this machine: upload the file again")
    return path


def check_served_dataset(name: str) -> None:
    """For the HTTP service: a dataset must be built in or uploaded, never a path on the server."""
    if name not in (BUILTIN_QA, BUILTIN_DIGITS) and not name.startswith(UPLOAD_PREFIX):
        raise UserInputError(f"over HTTP a dataset is {BUILTIN_QA}, {BUILTIN_DIGITS}, or a file uploaded with POST "
                             f"/v1/audit/datasets (upload:...); paths on the server are not accepted")
    if name.startswith(UPLOAD_PREFIX):
        upload_path(name)


def safe_file_name(filename: str, suffix: str) -> str:
    """The file name reduced to letters, digits, '.', '_' and '-' (at most 100 characters, keeping the suffix)."""
    stem = UNSAFE_CHARACTERS.sub("_", Path(filename).stem).strip("._-")[:100 - len(suffix)]
    return (stem or "upload") + suffix


def write_upload(filename: str, data: bytes) -> tuple[str, Path]:
    """Keep the bytes under the uploads folder (an existing copy is reused); returns (dataset name, path)."""
    suffix = Path(filename).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise UserInputError(f"{filename or 'the file'}: upload a .jsonl or .csv file (questions and answers, or "
                             f"scores) or a .zip of labelled image folders")
    inner = f"{hashlib.sha256(data).hexdigest()[:16]}/{safe_file_name(filename, suffix)}"
    path = upload_dir() / inner
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".part")
        partial.write_bytes(data)
        partial.replace(path)
    return UPLOAD_PREFIX + inner, path
