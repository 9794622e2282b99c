"""Image tensors: centre crop, normalisation and test-time augmentations, on small constructed images."""
from __future__ import annotations

import pytest
import torch

from backend.analyses.augmentations import (BRIGHTNESS_RANGE, CONTRAST_RANGE, Augmentation, apply_augmentation,
                                            center_crop, draw_augmentations, normalize)


def ramp(height: int, width: int) -> torch.Tensor:
    """(3, H, W) with pixel (r, c) = (r * W + c) / (H * W), the same in every channel."""
    values = torch.arange(height * width, dtype=torch.float32).reshape(height, width) / (height * width)
    return values.expand(3, -1, -1).clone()


def test_center_crop_takes_the_middle_with_the_extra_pixel_below_right():
    image = ramp(5, 6)
    crop = center_crop(image, 3)
    assert crop.shape == (3, 3, 3)
    assert crop[0, 0, 0] == image[0, 1, 1]  # top = (5-3)//2 = 1, left = (6-3)//2 = 1


def test_center_crop_refuses_a_small_image():
    with pytest.raises(ValueError, match="smaller than the crop"):
        center_crop(ramp(2, 8), 3)


def test_normalize_per_channel():
    image = torch.full((3, 2, 2), 0.5)
    out = normalize(image, (0.5, 0.25, 0.0), (0.5, 0.25, 2.0))
    assert out[:, 0, 0].tolist() == [0.0, 1.0, 0.25]


def test_identity_augmentation_is_the_centre_crop():
    image = ramp(6, 8)
    identity = Augmentation(top=(6 - 4) // 2, left=(8 - 4) // 2, flip=False, brightness=1.0, contrast=1.0)
    augmented = apply_augmentation(image, identity, 4)
    assert torch.allclose(augmented, center_crop(image, 4), atol=1e-6)


def test_hand_computed_augmentation():
    image = torch.zeros(3, 2, 3)
    image[:, :, 0] = 0.5  # left column grey, the rest black
    out = apply_augmentation(image, Augmentation(top=0, left=0, flip=True, brightness=1.2, contrast=0.5), 2)
    # crop columns 0-1, flip -> (0, 0.5); brightness -> (0, 0.6); grey mean 0.3; contrast 0.5 -> (0.15, 0.45)
    assert out[0, 0].tolist() == pytest.approx([0.15, 0.45])


def test_augmentations_are_clipped_to_the_unit_range():
    out = apply_augmentation(torch.ones(3, 2, 2), Augmentation(0, 0, False, 1.1, 1.0), 2)
    assert float(out.max()) == 1.0


def test_draws_are_seeded_and_stay_in_their_ranges():
    first = draw_augmentations(50, 10, 12, 8, torch.Generator().manual_seed(3))
    again = draw_augmentations(50, 10, 12, 8, torch.Generator().manual_seed(3))
    assert first == again
    assert {a.top for a in first} <= set(range(3)) and {a.left for a in first} <= set(range(5))
    assert {a.flip for a in first} == {True, False}
    assert all(BRIGHTNESS_RANGE[0] <= a.brightness <= BRIGHTNESS_RANGE[1] for a in first)
    assert all(CONTRAST_RANGE[0] <= a.contrast <= CONTRAST_RANGE[1] for a in first)
    assert "flipped" in next(a for a in first if a.flip).describe()


def test_a_crop_outside_the_image_is_refused():
    with pytest.raises(ValueError, match="leaves"):
        apply_augmentation(ramp(4, 4), Augmentation(2, 0, False, 1.0, 1.0), 3)
