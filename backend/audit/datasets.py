"""Audit datasets: the bundled QA set, uploaded questions with reference answers, or precomputed confidences.

Formats (UTF-8):
- QA JSONL: one object per line with "question" (or "prompt") and "answers" (a list of accepted aliases) or
  "answer" / "reference" (one string; several aliases separated by "|"); optional "id" and "difficulty"; optional
  "response" (an answer to grade as given instead of the model's own) and "claims" (its claims labelled right or
  wrong, graded one by one; "answers" may then be left out), see backend.audit.claim_labels.
- QA CSV: the same names as columns.
- Confidence CSV (no model run): a "correct" (or "label") column of 0/1 and one numeric column per method. A
  column is a confidence (higher = more confident) unless its name ends in "_uncertainty" or "_entropy".
  Optional "id" and "question" columns.
- Labelled images: a .zip (or a folder, named images:FOLDER) of class folders, see backend.audit.image_folders.

Names: builtin-qa, builtin-digits, a path to a .jsonl / .csv / .zip file, images:PATH (a folder or a zip), or
upload:NAME for a file uploaded through a client (backend.audit.uploads).
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Optional

from backend.audit.claim_labels import ClaimLabel, claim_labels, response_of
from backend.audit.image_folders import ImageFolder, open_image_folder
from backend.audit.uploads import UPLOAD_PREFIX, upload_path, write_upload
from backend.errors import UserInputError
from backend.schemas.audit import BUILTIN_DIGITS, BUILTIN_QA, MAX_AUDIT_ITEMS, UploadedAuditDataset

BUILTIN_QA_PATH = Path(__file__).resolve().parent.parent / "datasets" / "builtin_qa.jsonl"
MAX_DATASET_BYTES = 20 * 1024 * 1024
MAX_QUESTION_CHARS = 2000
UNCERTAIN_SUFFIXES = ("_uncertainty", "_entropy")
IMAGES_PREFIX = "images:"
LABEL_COLUMNS = ("correct", "label")


@dataclass(frozen=True)
class QAItem:
    """A question with its accepted answers; response: an answer to grade as given (None: the model answers),
    claims: its claims labelled right or wrong (empty: graded as a whole)."""

    id: str
    question: str
    answers: list[str]
    difficulty: str = ""
    response: Optional[str] = None
    claims: tuple[ClaimLabel, ...] = ()


@dataclass(frozen=True)
class GivenItem:
    """A precomputed row: scores by method and whether the answer was right."""

    id: str
    question: str
    correct: bool
    scores: dict[str, float]


@dataclass(frozen=True)
class Dataset:
    """A loaded dataset: its id (name or file name), the SHA-256 of its bytes, and its items."""

    kind: Literal["qa", "given", "digits", "images"]
    dataset_id: str
    sha256: str
    qa: list[QAItem] = field(default_factory=list)
    given: list[GivenItem] = field(default_factory=list)
    given_directions: dict[str, str] = field(default_factory=dict)
    images: Optional[ImageFolder] = None

    def __len__(self) -> int:
        if self.kind == "images":
            return len(self.images.images)
        return len(self.qa) if self.kind == "qa" else len(self.given)


def _aliases(row: dict) -> list[str]:
    raw = row.get("answers", row.get("answer", row.get("reference")))
    if isinstance(raw, str):
        raw = raw.split("|")
    if not isinstance(raw, list) or not all(isinstance(a, str) for a in raw):
        raise UserInputError("each item needs 'answers' (a list of strings) or 'answer' / 'reference' (a string)")
    aliases = [a.strip() for a in raw if a.strip()]
    if not aliases:
        raise UserInputError("an item has no accepted answer: give at least one in 'answers'")
    return aliases


def _qa_item(row: dict, number: int) -> QAItem:
    question = row.get("question", row.get("prompt"))
    if not isinstance(question, str) or not question.strip():
        raise UserInputError(f"item {number}: 'question' (or 'prompt') is missing or empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise UserInputError(f"item {number}: the question is longer than {MAX_QUESTION_CHARS} characters")
    try:
        response = response_of(row)
        claims = claim_labels(row, response)
        has_answers = any(row.get(key) is not None for key in ("answers", "answer", "reference"))
        aliases = _aliases(row) if has_answers or not claims else []
    except UserInputError as exc:
        raise UserInputError(f"item {number}: {exc}") from None
    return QAItem(id=str(row.get("id") or f"item-{number}"), question=question.strip(), answers=aliases,
                  difficulty=str(row.get("difficulty") or ""), response=response, claims=claims)


def _check_count(n: int) -> None:
    if n == 0:
        raise UserInputError("the dataset has no items")
    if n > MAX_AUDIT_ITEMS:
        raise UserInputError(f"the dataset has {n} items; at most {MAX_AUDIT_ITEMS} can be audited, split the file")


def parse_jsonl(text: str) -> list[QAItem]:
    """QA items from JSONL text; UserInputError names the first bad line."""
    items = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UserInputError(f"line {number} is not valid JSON ({exc.msg}); each line must be one object") from None
        if not isinstance(row, dict):
            raise UserInputError(f"line {number} is not a JSON object")
        items.append(_qa_item(row, number))
    _check_count(len(items))
    return items


def _given_rows(rows: list[dict], columns: list[str]) -> tuple[list[GivenItem], dict[str, str]]:
    label = next(c for c in columns if c in LABEL_COLUMNS)
    methods = [c for c in columns if c not in (label, "id", "question")]
    if not methods:
        raise UserInputError("the CSV has a correctness column but no score column: add one column per method")
    items = []
    for number, row in enumerate(rows, start=2):
        if row[label] not in ("0", "1", "true", "false", "True", "False"):
            raise UserInputError(f"CSV line {number}: '{label}' must be 0 or 1, not {row[label]!r}")
        try:
            scores = {m: float(row[m]) for m in methods}
        except (TypeError, ValueError):
            raise UserInputError(f"CSV line {number}: every score column must hold a number") from None
        if any(v != v or v in (float("inf"), float("-inf")) for v in scores.values()):
            raise UserInputError(f"CSV line {number}: scores must be finite numbers")
        items.append(GivenItem(id=row.get("id") or f"row-{number}", question=row.get("question") or "",
                               correct=row[label] in ("1", "true", "True"), scores=scores))
    directions = {m: "uncertain" if m.endswith(UNCERTAIN_SUFFIXES) else "confident" for m in methods}
    return items, directions


def parse_csv(text: str) -> tuple[list[QAItem], list[GivenItem], dict[str, str]]:
    """QA items, or precomputed rows with their directions, from CSV text (header row required)."""
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip() for c in reader.fieldnames or []]
    if not columns:
        raise UserInputError("the CSV is empty: it needs a header row")
    rows = [{k.strip(): (v or "").strip() for k, v in row.items() if k} for row in reader]
    _check_count(len(rows))
    if any(c in LABEL_COLUMNS for c in columns):
        items, directions = _given_rows(rows, columns)
        return [], items, directions
    if not ({"question", "prompt"} & set(columns)) or not ({"answers", "answer", "reference"} & set(columns)):
        raise UserInputError("the CSV needs 'question' and 'answer' columns (QA), or a 'correct' column and score "
                             f"columns (precomputed); it has: {', '.join(columns)}")
    rows = [{k: v for k, v in row.items() if v or k != "response"} for row in rows]  # an empty cell: no response
    return [_qa_item(row, number) for number, row in enumerate(rows, start=2)], [], {}


def is_image_dataset(name: str) -> bool:
    """Whether a dataset name refers to labelled images (images:PATH, or a .zip path or upload)."""
    return name.startswith(IMAGES_PREFIX) or name.lower().endswith(".zip")


def image_dataset(path: Path, dataset_id: str) -> Dataset:
    """A labelled image dataset from a zip or a folder, checked (see backend.audit.image_folders)."""
    folder = open_image_folder(path)
    return Dataset(kind="images", dataset_id=dataset_id, sha256=folder.sha256, images=folder)


def dataset_path(name: str) -> Path:
    """The file or folder a dataset name refers to."""
    if name == BUILTIN_QA:
        return BUILTIN_QA_PATH
    if name.startswith(UPLOAD_PREFIX):
        return upload_path(name)
    return Path(name.removeprefix(IMAGES_PREFIX))


def load_dataset(name: str, content: Optional[bytes] = None) -> Dataset:
    """A dataset by name (see the module's docstring), or a JSONL / CSV file's bytes in `content`, named by `name`."""
    if name == BUILTIN_DIGITS:
        return Dataset(kind="digits", dataset_id=BUILTIN_DIGITS, sha256="sklearn.datasets.load_digits")
    path = dataset_path(name)
    if content is None and is_image_dataset(name):
        return image_dataset(path, path.name)
    if content is None:
        if not path.is_file():
            raise UserInputError(f"no dataset {name!r}: use {BUILTIN_QA}, {BUILTIN_DIGITS}, images:FOLDER_OR_ZIP, or "
                                 f"a path to a .jsonl, .csv or .zip file")
        if path.stat().st_size > MAX_DATASET_BYTES:
            raise UserInputError(f"{path.name} is larger than {MAX_DATASET_BYTES // 2**20} MB")
        content = path.read_bytes()
    if len(content) > MAX_DATASET_BYTES:
        raise UserInputError(f"the file is larger than {MAX_DATASET_BYTES // 2**20} MB")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UserInputError("the file is not UTF-8 text; save it as UTF-8 JSONL or CSV") from None
    digest = hashlib.sha256(content).hexdigest()
    dataset_id = BUILTIN_QA if name == BUILTIN_QA else path.name
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return Dataset(kind="qa", dataset_id=dataset_id, sha256=digest, qa=parse_jsonl(text))
    if suffix == ".csv":
        qa, given, directions = parse_csv(text)
        return Dataset(kind="qa" if qa else "given", dataset_id=dataset_id, sha256=digest, qa=qa, given=given,
                       given_directions=directions)
    raise UserInputError(f"{path.name}: use a .jsonl or .csv file, or a .zip of labelled image folders")


def keep_upload(filename: str, data: bytes) -> UploadedAuditDataset:
    """Keep an uploaded dataset file and check it as an audit would; a file that fails the check is removed."""
    if len(data) > MAX_DATASET_BYTES:
        raise UserInputError(f"the file is {len(data) / 2**20:.1f} MiB; upload at most {MAX_DATASET_BYTES // 2**20} "
                             f"MiB (split it)")
    name, path = write_upload(filename, data)
    try:
        dataset = load_dataset(name)
    except UserInputError:
        path.unlink(missing_ok=True)
        raise
    return UploadedAuditDataset(dataset=name, filename=filename, kind=dataset.kind, items=len(dataset),
                                sha256=dataset.sha256)
