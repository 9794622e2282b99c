"""Reading a file the Saved page exported (one item, or the listed items) back as save requests, so that an analysis
saved on one machine reopens on another under the same id (and so the same link).

The file is JSON only: it is parsed, never executed; each item is checked against SaveRequest, and a malformed file
gets a message naming the item and the field.
"""
from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from backend.errors import UserInputError
from backend.schemas.store import SaveRequest

MAX_EXPORT_BYTES = 200 * 1024 * 1024  # an export of 500 listed audits stays well under this
MAX_EXPORT_ITEMS = 500  # what the Saved page lists and exports at most
SAVED_FIELDS = tuple(name for name in SaveRequest.model_fields)


def parsed_export(data: bytes) -> list[dict[str, Any]]:
    """The items of an export file: a JSON object (one item) or a list of objects (the listed items).

    UserInputError when the file is too big, not UTF-8 JSON, or not an object / list of objects."""
    if len(data) > MAX_EXPORT_BYTES:
        raise UserInputError(f"the file has {len(data):,} bytes; an export of saved analyses has at most "
                             f"{MAX_EXPORT_BYTES:,}: export fewer items")
    try:
        document = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise UserInputError(f"the file is not UTF-8 text (byte {exc.start}): choose a JSON file the Saved page "
                             f"exported") from None
    except json.JSONDecodeError as exc:
        raise UserInputError(f"the file is not valid JSON (line {exc.lineno}, column {exc.colno}): choose a complete "
                             f"JSON file that the Saved page exported") from None
    except RecursionError:
        raise UserInputError("the file's JSON is nested too deeply for a saved analysis: choose a JSON file the "
                             "Saved page exported") from None
    items = document if isinstance(document, list) else [document]
    if not items:
        raise UserInputError("the file holds an empty list: it has no saved analysis to import")
    if len(items) > MAX_EXPORT_ITEMS:
        raise UserInputError(f"the file holds {len(items)} items; import at most {MAX_EXPORT_ITEMS} at a time")
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise UserInputError(f"item {number} is a {type(item).__name__}, not an object with the fields "
                                 f"{', '.join(SAVED_FIELDS)}")
    return items


def save_request_of(item: dict[str, Any], number: int) -> SaveRequest:
    """One exported item (a SavedItem as JSON: its created_at is dropped, the store sets it) as a SaveRequest;
    UserInputError naming item `number` (from 1) and the first field that is wrong."""
    try:
        return SaveRequest(**{name: item[name] for name in SAVED_FIELDS if name in item})
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or "the item"
        raise UserInputError(f"item {number}, field {field!r}: {error['msg']}") from None


def save_requests_from_export(data: bytes) -> list[SaveRequest]:
    """Every item of an export file as a SaveRequest, checked before any is saved (so a bad file saves nothing)."""
    return [save_request_of(item, number) for number, item in enumerate(parsed_export(data), start=1)]
