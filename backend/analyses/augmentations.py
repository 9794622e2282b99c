"""Image tensors for the model: centre crop, normalisation, and test-time augmentations.

Pure functions on float tensors with values in [0, 1], shape (3, H, W). Test-time augmentation follows Ayhan &
Berens, "Test-time Data Augmentation for Estimation of Heteroscedastic Aleatoric Uncertainty in Deep Neural
Networks" (MIDL 2018) and Wang et al. (Neurocomputing 2019): small label-preserving changes (a shifted crop, a
horizontal flip, a small brightness and contrast change) drawn at random for each pass.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

BRIGHTNESS_RANGE = (0.9, 1.1)
CONTRAST_RANGE = (0.9, 1.1)


@dataclass(frozen=True)
class Augmentation:
    """One pass's change. top, left: corner of the size x size crop in the resized image (pixels).
    flip: mirror left-right after cropping. brightness, contrast: multiplicative factors (1 = unchanged);
    contrast scales each pixel's distance from the crop's mean grey level."""

    top: int
    left: int
    flip: bool
    brightness: float
    contrast: float

    def describe(self) -> str:
        """A short label such as 'crop at (12, 20), flipped, brightness 1.04, contrast 0.93'."""
        return (f"crop at ({self.top}, {self.left}){', flipped' if self.flip else ''}, "
                f"brightness {self.brightness:.2f}, contrast {self.contrast:.2f}")


def center_crop(image: torch.Tensor, size: int) -> torch.Tensor:
    """The central size x size crop of image (3, H, W), H, W >= size (the extra pixel goes below/right)."""
    height, width = image.shape[-2:]
    if height < size or width < size:
        raise ValueError(f"image {height}x{width} is smaller than the crop {size}")
    top, left = (height - size) // 2, (width - size) // 2
    return image[..., top:top + size, left:left + size]


def normalize(image: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """(image - mean) / std per channel; image (..., 3, H, W) in [0, 1]."""
    mean_t = torch.as_tensor(mean, dtype=image.dtype, device=image.device)[:, None, None]
    std_t = torch.as_tensor(std, dtype=image.dtype, device=image.device)[:, None, None]
    return (image - mean_t) / std_t


def draw_augmentations(count: int, height: int, width: int, size: int,
                       generator: torch.Generator) -> list[Augmentation]:
    """count random augmentations of a (3, height, width) image cropped to size: crop corner uniform over all
    positions, flip with probability 1/2, brightness and contrast uniform in their ranges."""
    if height < size or width < size:
        raise ValueError(f"image {height}x{width} is smaller than the crop {size}")
    draws = []
    for _ in range(count):
        top = int(torch.randint(0, height - size + 1, (1,), generator=generator))
        left = int(torch.randint(0, width - size + 1, (1,), generator=generator))
        flip = bool(torch.rand(1, generator=generator) < 0.5)
        low, high = BRIGHTNESS_RANGE
        brightness = low + (high - low) * float(torch.rand(1, generator=generator))
        low, high = CONTRAST_RANGE
        contrast = low + (high - low) * float(torch.rand(1, generator=generator))
        draws.append(Augmentation(top, left, flip, round(brightness, 4), round(contrast, 4)))
    return draws


def apply_augmentation(image: torch.Tensor, augmentation: Augmentation, size: int) -> torch.Tensor:
    """The augmented crop (3, size, size) of image (3, H, W) in [0, 1], clipped back to [0, 1].

    Order: crop, flip, brightness (x factor), contrast (grey mean + factor * (x - grey mean)), clip.
    """
    crop = image[..., augmentation.top:augmentation.top + size, augmentation.left:augmentation.left + size]
    if crop.shape[-2:] != (size, size):
        raise ValueError(f"crop at ({augmentation.top}, {augmentation.left}) leaves the {tuple(image.shape[-2:])} "
                         f"image")
    if augmentation.flip:
        crop = crop.flip(-1)
    crop = crop * augmentation.brightness
    grey = crop.mean()
    crop = grey + augmentation.contrast * (crop - grey)
    return crop.clamp(0.0, 1.0)
