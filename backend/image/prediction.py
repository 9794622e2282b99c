"""From a photo to the classifier's prediction: preprocessing, forward passes in batches, the top classes.

Probabilities are the softmax of the model's logits divided by the request's temperature, over all classes.
"""
from __future__ import annotations

import io
import time
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from backend.analyses.augmentations import center_crop, normalize
from backend.analyses.classifier_stats import distribution_stats
from backend.budget import checkpoint
from backend.image.input import ReadImage
from backend.models.image_loader import LoadedImageModel, Preprocessing
from backend.schemas.image import ClassScore, ImageAnalysis, ImageRequest

MAX_BATCH = 32
MAX_ASPECT = 4
RESAMPLING = {"bicubic": Image.Resampling.BICUBIC, "bilinear": Image.Resampling.BILINEAR,
              "nearest": Image.Resampling.NEAREST}


@dataclass(frozen=True)
class PreparedImage:
    """resized: (3, H, W) in [0, 1], short side = preprocessing.resize_to (what test-time augmentation crops).
    crop: (3, S, S) in [0, 1], the centre crop the model sees. batch: (1, 3, S, S) normalised, on the device."""

    resized: torch.Tensor
    crop: torch.Tensor
    batch: torch.Tensor


def resize_short_side(image: Image.Image, preprocessing: Preprocessing) -> torch.Tensor:
    """The RGB image resized so its short side is preprocessing.resize_to, as (3, H, W) float32 in [0, 1].

    A very elongated image is first cut to its central part at most MAX_ASPECT times longer than wide (the
    model's centre crop lies inside it), so a 10000 x 10 strip cannot become a huge tensor.
    """
    limit = MAX_ASPECT * min(image.size)
    if max(image.size) > limit:
        width, height = min(image.width, limit), min(image.height, limit)
        left, top = (image.width - width) // 2, (image.height - height) // 2
        image = image.crop((left, top, left + width, top + height))
    short = preprocessing.resize_to
    scale = short / min(image.size)
    size = (max(short, int(round(image.width * scale))), max(short, int(round(image.height * scale))))
    resized = image.resize(size, RESAMPLING.get(preprocessing.interpolation, Image.Resampling.BICUBIC))
    return torch.from_numpy(np.asarray(resized, dtype=np.float32) / 255.0).permute(2, 0, 1).contiguous()


def prepare(lm: LoadedImageModel, image: Image.Image) -> PreparedImage:
    """The tensors of one RGB image for this model."""
    resized = resize_short_side(image, lm.preprocessing)
    crop = center_crop(resized, lm.preprocessing.size)
    batch = normalize(crop, lm.preprocessing.mean, lm.preprocessing.std)[None].to(lm.device)
    return PreparedImage(resized=resized, crop=crop, batch=batch)


def png_bytes(crop: torch.Tensor) -> bytes:
    """A (3, H, W) [0, 1] tensor as PNG bytes."""
    pixels = (crop.clamp(0, 1) * 255.0 + 0.5).to(torch.uint8).permute(1, 2, 0).cpu().numpy()
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buffer, "PNG")
    return buffer.getvalue()


def batched_logits(model: torch.nn.Module, batch: torch.Tensor, *, max_batch: int = MAX_BATCH) -> torch.Tensor:
    """Logits (B, C) as float64 on the CPU, from forward passes over at most max_batch images at a time.

    batch: (B, 3, S, S) on the model's device. Runs in inference mode, in whatever train/eval state the caller
    set (MC dropout switches dropout on around this call).
    """
    parts = []
    with torch.inference_mode():
        for start in range(0, batch.shape[0], max_batch):
            parts.append(model(batch[start:start + max_batch]))
            checkpoint("passes", start + len(parts[-1]), batch.shape[0])
    return torch.cat(parts).to(torch.float64).cpu()


def rng_devices(device: str) -> list[int]:
    """The CUDA device indices whose random state torch.random.fork_rng must save and restore (none on CPU)."""
    return [torch.device(device).index or 0] if device.startswith("cuda") else []


def class_scores(lm: LoadedImageModel, indices: list[int], probs: list[float]) -> list[ClassScore]:
    """ClassScore objects for class indices and their probabilities."""
    return [ClassScore(label=lm.class_names[i], index=i, prob=p) for i, p in zip(indices, probs)]


def predict(lm: LoadedImageModel, request: ImageRequest, read: ReadImage) -> ImageAnalysis:
    """One forward pass: logits of every class, the top-k at the request's temperature, entropy and margin."""
    started = time.perf_counter()
    prepared = prepare(lm, read.image)
    logits = batched_logits(lm.model, prepared.batch)[0]
    stats = distribution_stats(logits, temperature=request.temperature, top_k=request.top_k)
    return ImageAnalysis(
        model=lm.spec.id, device=lm.device, image=read.info, preprocessing=lm.preprocessing.describe(),
        model_input_png=png_bytes(prepared.crop), temperature=request.temperature, logits=logits.tolist(),
        top_k=class_scores(lm, stats.top_indices, stats.top_probs), entropy=stats.entropy,
        max_entropy=float(np.log(lm.num_classes)), margin=stats.margin, seconds=time.perf_counter() - started)
