"""From a photo to the prediction: resizing, the crop the model sees, batching, and numbers equal to a direct
forward pass of the same tensor."""
from __future__ import annotations

import io
import math

import pytest
import torch
from PIL import Image

from backend.image.input import ReadImage
from backend.image.prediction import batched_logits, png_bytes, predict, prepare, resize_short_side
from backend.models.image_loader import Preprocessing
from backend.schemas.image import ImageInfo, ImageInput, ImageRequest
from tests.backend.tiny_image_models import tiny_cnn

PREPROCESSING = Preprocessing(16, 0.8, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25), "bicubic")


def noise(width: int, height: int, seed: int = 0) -> Image.Image:
    pixels = torch.randint(0, 256, (height, width, 3), generator=torch.Generator().manual_seed(seed))
    return Image.fromarray(pixels.to(torch.uint8).numpy(), "RGB")


def test_short_side_becomes_size_over_crop_fraction():
    assert resize_short_side(noise(60, 30), PREPROCESSING).shape == (3, 20, 40)  # 16 / 0.8 = 20
    assert resize_short_side(noise(5, 7), PREPROCESSING).shape == (3, 28, 20)  # small images are enlarged


def test_a_long_strip_is_cut_to_four_to_one_before_resizing():
    resized = resize_short_side(noise(4000, 10), PREPROCESSING)
    assert resized.shape == (3, 20, 80)


def test_prepare_normalises_the_centre_crop():
    lm = tiny_cnn()
    prepared = prepare(lm, noise(30, 20))
    assert prepared.crop.shape == (3, 16, 16) and prepared.batch.shape == (1, 3, 16, 16)
    assert 0.0 <= float(prepared.crop.min()) and float(prepared.crop.max()) <= 1.0


def test_png_bytes_round_trip():
    crop = torch.rand(3, 5, 7, generator=torch.Generator().manual_seed(0))
    image = Image.open(io.BytesIO(png_bytes(crop)))
    assert image.format == "PNG" and image.size == (7, 5)
    assert abs(image.getpixel((2, 3))[0] - round(float(crop[0, 3, 2]) * 255)) <= 1


def test_chunked_forward_passes_equal_one_batch():
    lm = tiny_cnn()
    images = torch.rand(7, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(batched_logits(lm.model, images, max_batch=3), batched_logits(lm.model, images),
                          atol=1e-6)


def test_prediction_equals_a_direct_forward_pass():
    lm = tiny_cnn()
    image = noise(24, 20)
    read = ReadImage(image=image, info=ImageInfo(width=24, height=20, format="PNG", mode="RGB", name="noise"))
    result = predict(lm, ImageRequest(model="tiny", image=ImageInput(sample="cat"), top_k=2, temperature=2.0), read)
    with torch.no_grad():
        logits = lm.model(prepare(lm, image).batch)[0].to(torch.float64)
    probs = torch.softmax(logits / 2.0, dim=-1)
    assert result.logits == pytest.approx(logits.tolist())
    assert [c.index for c in result.top_k] == probs.argsort(descending=True)[:2].tolist()
    assert result.top_k[0].prob == pytest.approx(float(probs.max()))
    assert result.entropy == pytest.approx(float(-(probs * probs.log()).sum()))
    assert result.max_entropy == pytest.approx(math.log(3))
    assert Image.open(io.BytesIO(result.model_input_png)).size == (16, 16)
