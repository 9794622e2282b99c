"""Audits over HTTP: upload, start, one batch per request until done, results equal to an in-process run, a stopped
audit resumed by a new client, overrides, and the service's dataset, batch and body limits."""
from __future__ import annotations

import base64

import pytest

from backend.audit.store import AuditStore
from backend.clients.local import LocalClient
from backend.errors import ItemNotFoundError
from backend.clients.http import HttpClient
from backend.schemas import DEFAULT_IMAGE_MODEL
from backend.schemas.audit import AuditDatasetUpload, AuditOverride, AuditRequest
from tests.backend.audit.photo_zips import labelled_entries, photo, zip_bytes
from tests.backend.service.conftest import running_server

pytestmark = pytest.mark.slow
DIGITS = AuditRequest(dataset="builtin-digits", methods=["softmax", "margin"], limit=12, batch_size=4)


def run_to_the_end(client, request: AuditRequest) -> list:
    """start, then batches until complete; the progress of every call."""
    states = [client.start_audit(request)]
    while not states[-1].complete:
        states.append(client.run_audit_batch(request))
    return states


def test_image_audit_over_http_equals_an_in_process_run(local_client, engine, tmp_path):
    upload = AuditDatasetUpload(filename="photos.zip", data=zip_bytes(labelled_entries()))
    with running_server(local_client) as url:
        client = HttpClient(url)
        uploaded = client.upload_audit_dataset(upload)
        assert uploaded.kind == "images" and uploaded.items == 4
        request = AuditRequest(dataset=uploaded.dataset, model=DEFAULT_IMAGE_MODEL, batch_size=3, samples=2,
                               methods=["softmax", "margin", "mc_dropout_prob", "tta_mi"])
        states = run_to_the_end(client, request)
        over_http = client.audit_result(request)
    assert [(s.done, s.computed) for s in states] == [(0, 0), (3, 3), (4, 1)]
    alone = LocalClient(engine=engine, audit_store=AuditStore(f"sqlite:///{tmp_path}/alone.sqlite"))
    assert alone.upload_audit_dataset(upload) == uploaded
    run_to_the_end(alone, request)
    in_process = alone.audit_result(request)
    assert over_http.audit_id == in_process.audit_id and over_http.n == 4
    for remote, local in zip(over_http.items, in_process.items):
        assert remote.model_dump(exclude={"scores", "probs"}) == local.model_dump(exclude={"scores", "probs"})
        assert remote.scores == pytest.approx(local.scores) and remote.probs == pytest.approx(local.probs)
    assert over_http.metrics["softmax"].ece == pytest.approx(in_process.metrics["softmax"].ece)


def test_a_stopped_audit_resumes_from_a_new_client_and_overrides_count(local_client):
    with running_server(local_client) as url:
        first = HttpClient(url)
        first.start_audit(DIGITS)
        assert first.run_audit_batch(DIGITS).done == 4  # then the app is closed
        states = run_to_the_end(HttpClient(url), DIGITS)
        assert states[0].done == 4 and sum(s.computed for s in states) == 8
        result = first.audit_result(DIGITS)
        item = first.set_audit_override(AuditOverride(audit_id=result.audit_id, index=0,
                                                      verdict=not result.items[0].correct))
        assert item.override is (not result.items[0].correct)
        assert first.audit_result(DIGITS).accuracy == pytest.approx(result.accuracy + (
            1 / 12 if item.override else -1 / 12))
        with pytest.raises(ItemNotFoundError):
            first.set_audit_override(AuditOverride(audit_id="0" * 16, index=0, verdict=True))


@pytest.mark.parametrize("change, message", [
    ({"dataset": "/etc/passwd"}, "paths on the server are not accepted"),
    ({"dataset": "images:/work"}, "paths on the server are not accepted"),
    ({"dataset": "upload:../../data/uqlens.sqlite"}, "not an uploaded dataset name"),
    ({"dataset": "upload:0123456789abcdef/photos.zip"}, "upload the file again"),
    ({"batch_size": 17}, "at most 16 audit items per request"),
    ({"dataset": "builtin-qa", "max_new_tokens": 100}, "at most 8"),
    ({"methods": ["mc_dropout_prob"]}, "not an image method"),
])
def test_bad_audit_requests_get_422_saying_what_to_change(api, change, message):
    body = DIGITS.model_copy(update=change).model_dump(mode="json")
    for path in ("/v1/audit/start", "/v1/audit/batch", "/v1/audit/result"):
        response = api.post(path, json=body)
        assert response.status_code == 422 and message in response.json()["detail"], (path, response.text)


def test_uploads_get_the_upload_body_cap_and_bad_files_422(api):
    pngs = {"tabby/cat.png": photo("cat"), "espresso/coffee.png": photo("coffee"),
            "missile/rocket.png": photo("rocket"), "space shuttle/astronaut.png": photo("astronaut")}
    photos = base64.b64encode(zip_bytes(pngs)).decode()
    assert len(photos) > 1_000_000  # over the 1 MB cap of other routes
    assert api.post("/v1/audit/datasets", json={"filename": "p.zip", "data": photos}).status_code == 200
    flat = base64.b64encode(zip_bytes({"cat.png": b"x"})).decode()
    response = api.post("/v1/audit/datasets", json={"filename": "flat.zip", "data": flat})
    assert response.status_code == 422 and "not inside a class folder" in response.json()["detail"]
    assert api.post("/v1/audit/datasets", content=b"x" * 30_000_001,
                    headers={"Content-Type": "application/json"}).status_code == 413
    with pytest.raises(ValueError, match="upload at most 20 MiB"):
        AuditDatasetUpload(filename="big.zip", data=b"x" * (20 * 2**20 + 1))
