from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from pydantic import ValidationError

from backend.schemas.store import SaveRequest
from backend.errors import SaveConflictError
from backend.store.repository import Store, like_literal

ROOT = Path(__file__).resolve().parents[3]


def request(title: str = "Paris answer", **kwargs) -> SaveRequest:
    fields = dict(id=str(uuid.uuid4()), kind="text", title=title, notes="the model was sure", tags=["Geo", "demo"],
                  model="smollm2-135m-instruct", payload={"tokens": [{"text": "Paris", "prob": 0.95}]},
                  request={"prompt": "What is the capital of France?"})
    return SaveRequest(**{**fields, **kwargs})


@pytest.fixture
def store(database_url) -> Store:
    """An empty store, once on SQLite and once on the session's real PostgreSQL server."""
    return Store(database_url)


def test_saved_item_reopens_exactly_as_it_was(store):
    saved = store.save(request())
    again = store.get(saved.id)
    assert again == saved
    assert again.payload == {"tokens": [{"text": "Paris", "prob": 0.95}]}
    assert again.tags == ["geo", "demo"]


def test_repeating_a_save_does_not_duplicate(store):
    item = request()
    first = store.save(item)
    assert store.save(item) == first
    assert len(store.list()) == 1


def test_reusing_an_id_for_other_content_is_refused(store):
    item = request()
    store.save(item)
    with pytest.raises(SaveConflictError):
        store.save(item.model_copy(update={"payload": {"other": 1}}))


def test_search_by_text_tag_and_kind(store):
    store.save(request("Capital of France", tags=["geo"]))
    store.save(request("Story opening", notes="creative, uncertain", tags=["teaching"], request=None))
    store.save(request("100% sure_thing", kind="audit", request=None))
    assert [s.title for s in store.list(query="france")] == ["Capital of France"]
    assert [s.title for s in store.list(query="UNCERTAIN")] == ["Story opening"]
    assert [s.title for s in store.list(tag="teaching")] == ["Story opening"]
    assert [s.title for s in store.list(kind="audit")] == ["100% sure_thing"]
    assert [s.title for s in store.list(query="0% s")] == ["100% sure_thing"]
    assert store.list(query="%") == [s for s in store.list() if "%" in s.title]


def test_delete(store):
    saved = store.save(request())
    assert store.delete(saved.id) is True
    assert store.get(saved.id) is None and store.delete(saved.id) is False


def test_sqlite_runs_durable_and_checks_integrity(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    store.list()
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    assert store.integrity_ok()


@pytest.mark.parametrize("fields, message", [
    (dict(id="not-a-uuid"), "id must be a UUID"),
    (dict(title="   "), "title is empty"),
    (dict(tags=["x" * 41]), "longer than 40"),
    (dict(kind="video"), "Input should be"),
])
def test_bad_save_requests_say_what_to_change(fields, message):
    with pytest.raises(ValidationError, match=message):
        request(**fields)


def test_like_literal_escapes_wildcards():
    assert like_literal("a%b_c\\") == "a\\%b\\_c\\\\"


@pytest.mark.slow
def test_every_acknowledged_save_survives_sigkill(tmp_path):
    """A writer is killed with SIGKILL five times mid-stream; every id it printed (acknowledged) is stored."""
    url = f"sqlite:///{tmp_path / 'kill.sqlite'}"
    acknowledged: list[str] = []
    for round_index in range(5):
        writer = subprocess.Popen([sys.executable, str(Path(__file__).with_name("kill_writer.py")), url,
                                   f"round{round_index}"], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                                  env={**os.environ, "PYTHONPATH": str(ROOT)})
        deadline = time.time() + 30
        lines = []
        while len(lines) < 20 + 7 * round_index and time.time() < deadline:
            lines.append(writer.stdout.readline().strip())
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        acknowledged += [line for line in lines if line]
    store = Store(url)
    stored = {s.id for s in store.list(limit=10_000)}
    assert len(acknowledged) >= 100
    assert set(acknowledged) <= stored
    assert store.integrity_ok()
