"""Exported saved analyses read back: the same id and content on another store, clear messages for bad files."""
from __future__ import annotations

import json
import uuid

import pytest

from backend.errors import UserInputError
from backend.schemas.store import SaveRequest
from backend.schemas import saved_exports as exports
from backend.schemas.saved_exports import save_requests_from_export
from backend.store.repository import Store


def request(title: str = "Paris answer") -> SaveRequest:
    return SaveRequest(id=str(uuid.uuid4()), kind="text", title=title, notes="sure", tags=["geo"], model="m",
                       payload={"tokens": [{"text": "Paris", "prob": 0.95}]}, request={"prompt": "Capital?"})


def test_an_exported_item_reopens_on_another_store_under_the_same_id(tmp_path, database_url):
    here, there = Store(f"sqlite:///{tmp_path / 'here.db'}"), Store(database_url)
    saved = here.save(request())
    exported = saved.model_dump_json(indent=2).encode()
    [again] = save_requests_from_export(exported)
    copied = there.save(again)
    assert (copied.id, copied.payload, copied.request, copied.title, copied.tags) == (
        saved.id, saved.payload, saved.request, saved.title, saved.tags)
    assert there.save(again) == copied  # importing twice keeps one item


def test_an_exported_list_gives_every_item_in_order(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'a.db'}")
    items = [store.save(request(f"item {n}")) for n in range(3)]
    data = json.dumps([i.model_dump() for i in items]).encode()
    assert [r.title for r in save_requests_from_export(data)] == ["item 0", "item 1", "item 2"]


@pytest.mark.parametrize("data, message", [
    (b"", r"not valid JSON \(line 1, column 1\)"),
    (b'{"id": "1b4e28ba-2fa1-11d2-883f-0016d3cca427", "kind": "text"', "not valid JSON"),
    (b"\xff\xfe", "not UTF-8"),
    (b"[]", "empty list"),
    (b"[1]", "item 1 is a int"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
])
def test_a_malformed_file_is_refused_with_what_to_change(data, message):
    with pytest.raises(UserInputError, match=message):
        save_requests_from_export(data)


def test_the_first_wrong_field_of_an_item_is_named():
    good, bad = request().model_dump(), request().model_dump()
    bad["id"] = "not-a-uuid"
    with pytest.raises(UserInputError, match=r"item 2, field 'id'.*UUID"):
        save_requests_from_export(json.dumps([good, bad]).encode())
    del good["payload"]
    with pytest.raises(UserInputError, match=r"item 1, field 'payload'"):
        save_requests_from_export(json.dumps(good).encode())


def test_too_many_items_or_bytes_are_refused(monkeypatch):
    monkeypatch.setattr(exports, "MAX_EXPORT_ITEMS", 2)
    with pytest.raises(UserInputError, match="at most 2"):
        save_requests_from_export(json.dumps([request().model_dump()] * 3).encode())
    monkeypatch.setattr(exports, "MAX_EXPORT_BYTES", 10)
    with pytest.raises(UserInputError, match="bytes"):
        save_requests_from_export(b"[" + b" " * 20 + b"]")
