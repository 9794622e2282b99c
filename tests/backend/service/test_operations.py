"""Every Client operation over HTTP: same answers as in-process, and bad images get their 4xx."""
from __future__ import annotations

import base64
import io
import struct
import zlib

import pytest
from PIL import Image

from backend.clients.http import HttpClient
from backend.schemas import ImageRequest, TextRequest
from backend.schemas.sequence import SequenceRequest
from backend.service.operations import OPERATIONS
from tests.backend.service.conftest import running_server

pytestmark = pytest.mark.slow


def png_bytes(size=(32, 32)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def bomb_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny PNG whose header claims width x height pixels (a decompression bomb)."""
    data = bytearray(png_bytes((1, 1)))
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    return bytes(data)


def truncated_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 120, 200)).save(buffer, format="JPEG")
    return buffer.getvalue()[:200]


def image_body(data: bytes) -> dict:
    return {"image": {"data": base64.b64encode(data).decode()}}


def test_every_client_operation_has_a_route_and_an_http_method():
    for operation in OPERATIONS:
        assert callable(getattr(HttpClient, operation.method_name))


def test_image_and_sequence_over_http_equal_in_process(local_client):
    image = ImageRequest(image={"sample": "coffee"})
    sequence = SequenceRequest(text=TextRequest(prompt="What is 2+2?", max_new_tokens=4),
                               methods=["mean_token_entropy", "perplexity"], samples=2)
    with running_server(local_client) as url:
        client = HttpClient(url)
        over_http_image = client.analyze_image(image)
        over_http_sequence = client.analyze_sequence(sequence)
        assert client.image_methods("efficientnet-lite0") == local_client.image_methods("efficientnet-lite0")
    assert over_http_image.model_dump(exclude={"seconds"}) == local_client.analyze_image(image).model_dump(
        exclude={"seconds"})
    in_process = local_client.analyze_sequence(sequence)
    assert [s.value for s in over_http_sequence.scores] == pytest.approx([s.value for s in in_process.scores])


BAD_IMAGES = [
    ("decompression bomb PNG", image_body(bomb_png()), 422),
    ("truncated JPEG", image_body(truncated_jpeg()), 422),
    ("text file named .png", image_body(b"this is not an image, whatever its name says"), 422),
    ("empty upload", image_body(b""), 422),
    ("not base64", {"image": {"data": "***"}}, 422),
    ("both sample and data", {"image": {"sample": "cat", "data": base64.b64encode(png_bytes()).decode()}}, 422),
    ("path-like image model id", {"model": "../weights.pth", "image": {"sample": "cat"}}, 404),
]


@pytest.mark.parametrize("name, body, status", BAD_IMAGES, ids=[b[0] for b in BAD_IMAGES])
def test_bad_images_get_their_4xx_then_a_valid_one_succeeds(api, name, body, status):
    response = api.post("/v1/image", json=body)
    assert response.status_code == status, response.text
    assert api.post("/v1/image", json=image_body(png_bytes())).status_code == 200


def test_image_upload_over_the_image_body_cap_gets_413(api):
    assert api.post("/v1/image", content=b"x" * 30_000_001,
                    headers={"Content-Type": "application/json"}).status_code == 413
