"""What the store refuses, and what its search finds, the same on SQLite and on a real PostgreSQL server (issue 14:
deep or non-finite payloads, NUL characters; issue 13: search covers prompts and answers, kinds that exist)."""
from __future__ import annotations

import json
import uuid

import pytest
from pydantic import ValidationError
from sqlalchemy import create_engine, text

from backend.errors import UserInputError
from backend.schemas.store import MAX_PAYLOAD_DEPTH, SaveRequest
from backend.store.repository import Store
from backend.store.search_text import search_text, texts_under_keys


def fields(**changes) -> dict:
    """The fields of a valid text save, with `changes`."""
    return {**dict(id=str(uuid.uuid4()), kind="text", title="Haiku", notes="", tags=[], model="m",
                   payload={"prompt": "Write a poem", "generated_text": "An old silent pond", "tokens": []},
                   request={"prompt": "Write a poem"}), **changes}


@pytest.fixture
def store(database_url) -> Store:
    return Store(database_url)


def nested(depth: int) -> dict:
    """{"a": {"a": ... {"a": 1}}} with `depth` dicts."""
    value: object = 1
    for _ in range(depth):
        value = {"a": value}
    return value


def test_a_payload_nested_too_deep_is_refused_before_storing(store):
    with pytest.raises(ValidationError, match=f"payload is nested more than {MAX_PAYLOAD_DEPTH} levels deep"):
        SaveRequest(**fields(payload=nested(256)))
    with pytest.raises(ValidationError, match="request is nested more than"):
        SaveRequest(**fields(request=nested(MAX_PAYLOAD_DEPTH + 2)))
    assert store.list() == []


def test_a_payload_at_the_depth_limit_reads_back(store):
    saved = store.save(SaveRequest(**fields(payload=nested(MAX_PAYLOAD_DEPTH))))
    assert store.get(saved.id).model_dump_json() == saved.model_dump_json()


@pytest.mark.parametrize("number", [float("nan"), float("inf"), -float("inf")])
def test_a_non_finite_number_is_refused_naming_its_path(number):
    payload = {"tokens": [{"text": "Paris", "prob": 0.5}, {"text": "!", "prob": number}]}
    with pytest.raises(ValidationError, match=r"payload\.tokens\.1\.prob holds the non-finite number"):
        SaveRequest(**fields(payload=payload))


def test_what_could_not_be_read_back_is_never_stored(store):
    request = SaveRequest.model_construct(**fields(payload={"when": object()}))
    with pytest.raises(UserInputError, match="could not be read back once saved"):
        store.save(request)
    assert store.list() == []


@pytest.mark.parametrize("field", ["title", "notes", "model"])
def test_a_nul_character_in_a_text_field_is_refused_naming_it(field):
    with pytest.raises(ValidationError, match=f"{field} holds a NUL character"):
        SaveRequest(**fields(**{field: "Par\x00is"}))


def test_a_nul_character_in_a_tag_or_id_is_refused():
    with pytest.raises(ValidationError, match="tag 'g\\\\x00eo' holds a NUL character"):
        SaveRequest(**fields(tags=["g\x00eo"]))
    with pytest.raises(ValidationError, match="id must be a UUID"):
        SaveRequest(**fields(id="1b4e28ba-2fa1-11d2-883f-0016d3cca427\x00"))


def test_nul_inside_the_payload_reads_back_on_both_databases(store):
    saved = store.save(SaveRequest(**fields(payload={"generated_text": "a\x00b"})))
    assert store.get(saved.id).payload == {"generated_text": "a\x00b"}
    assert [s.id for s in store.list(query="a b")] == [saved.id]


@pytest.mark.parametrize("filters", [dict(query="x\x00"), dict(tag="\x00"), dict(kind="te\x00xt")])
def test_a_nul_character_in_a_filter_is_refused(store, filters):
    with pytest.raises(UserInputError, match="holds a NUL character"):
        store.list(**filters)


def test_an_id_that_is_no_uuid_is_simply_not_there(store):
    saved = store.save(SaveRequest(**fields()))
    assert store.get("x\x00") is None and store.delete("x\x00") is False
    assert store.get(saved.id.upper()) == saved


def test_search_covers_prompts_and_answers(store):
    haiku = store.save(SaveRequest(**fields(title="T1")))
    store.save(SaveRequest(**fields(title="Australia T1", payload={"prompt": "Capital of Australia?",
                                                                  "generated_text": "Canberra"}, request=None)))
    sequence = store.save(SaveRequest(**fields(kind="sequence", title="S", request=None,
                                               payload={"text": {"prompt": "Say hi", "generated_text": "HAIKU"}})))
    audit = store.save(SaveRequest(**fields(kind="audit", title="A", request=None,
                                            payload={"items": [{"question": "Who wrote 1984?",
                                                                "answer": "George Orwell"}]})))
    assert {s.id for s in store.list(query="haiku")} == {sequence.id}
    assert {s.id for s in store.list(query="silent pond")} == {haiku.id}
    assert {s.id for s in store.list(query="write a POEM")} == {haiku.id}
    assert {s.id for s in store.list(query="orwell")} == {audit.id}
    assert {s.id for s in store.list(query="canberra")} == {s.id for s in store.list(query="australia")}


def test_kinds_lists_only_kinds_that_exist(store):
    assert store.kinds() == []
    store.save(SaveRequest(**fields(kind="text")))
    store.save(SaveRequest(**fields(kind="audit")))
    store.save(SaveRequest(**fields(kind="text")))
    assert store.kinds() == ["audit", "text"]


def test_an_older_database_gains_the_search_column_and_is_backfilled(database_url):
    """A table written before search_text existed: opening it adds the column, fills it, and search works."""
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE saved_items (id VARCHAR(36) PRIMARY KEY, kind VARCHAR(20) NOT NULL, "
                                "title VARCHAR(200) NOT NULL, notes TEXT NOT NULL, tags TEXT NOT NULL, model "
                                "VARCHAR(200) NOT NULL, created_at VARCHAR(40) NOT NULL, payload TEXT NOT NULL, "
                                "request TEXT)"))
        for index in range(250):
            connection.execute(text("INSERT INTO saved_items VALUES (:id, 'text', :title, '', '[]', 'm', "
                                    "'2026-01-01T00:00:00+00:00', :payload, NULL)"),
                               dict(id=str(uuid.UUID(int=index)), title=f"old {index}",
                                    payload=json.dumps({"prompt": f"haiku {index}", "generated_text": "x"})))
    engine.dispose()
    store = Store(database_url)
    assert len(store.list(query="haiku", limit=500)) == 250
    assert [s.title for s in store.list(query="haiku 249")] == ["old 249"]
    assert store.get(str(uuid.UUID(int=7))).payload["prompt"] == "haiku 7"


def test_search_text_collects_prompts_and_answers_once():
    payload = {"prompt": "P", "generated_text": "A", "tokens": [{"text": "A"}],
               "items": [{"question": "Q", "answer": "A2", "answers": ["ignored"]}]}
    assert texts_under_keys(payload) == ["P", "A", "Q", "A2"]
    assert search_text(payload, {"prompt": "P", "answer": "given\x00"}) == "P\nA\nQ\nA2\ngiven "
