"""Tiny image classifiers with known numbers, wrapped as LoadedImageModel, for fast offline unit tests."""
from __future__ import annotations

import math

import timm
import torch
import torch.nn.functional as F
from torch import nn

from backend.models.image_loader import LoadedImageModel, Preprocessing
from backend.models.registry import ModelSpec

IDENTITY_NORMALISATION = ((0.0, 0.0, 0.0), (1.0, 1.0, 1.0))


def wrap(model: nn.Module, *, size: int, classes: int, family: str, dropout_rate: float = 0.0,
         crop_fraction: float = 1.0) -> LoadedImageModel:
    """A LoadedImageModel around an in-memory network; inputs stay in [0, 1] (mean 0, std 1)."""
    mean, std = IDENTITY_NORMALISATION
    spec = ModelSpec(f"tiny-{family}", "image", "timm", "(in memory)", "tiny model for tests", arch="tiny")
    return LoadedImageModel(spec=spec, model=model.eval(), device="cpu",
                            preprocessing=Preprocessing(size, crop_fraction, mean, std, "bilinear"),
                            class_names=[f"class {i}" for i in range(classes)], family=family,
                            dropout_rate=dropout_rate)


class CoinDropoutModel(nn.Module):
    """Ignores the image: one feature c = ln(3) / 4, dropout p = 1/2 (functional, like timm's head), logits
    (f, -f). Kept (f = 2c = ln(3)/2): probabilities (3/4, 1/4). Dropped (f = 0): (1/2, 1/2)."""

    drop_rate = 0.5

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        feature = torch.full((images.shape[0], 1), math.log(3) / 4, dtype=images.dtype, device=images.device)
        feature = F.dropout(feature, p=self.drop_rate, training=self.training)
        return torch.cat([feature, -feature], dim=1)


class HalvesModel(nn.Module):
    """logit 0 = scale x (mean of the left half - mean of the right half), logit 1 = 0. Flipping the image
    flips the sign."""

    def __init__(self, scale: float = 4.0) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        half = images.shape[-1] // 2
        difference = images[..., :half].mean(dim=(1, 2, 3)) - images[..., half:].mean(dim=(1, 2, 3))
        return torch.stack([self.scale * difference, torch.zeros_like(difference)], dim=1)


class LinearModel(nn.Module):
    """logit c = sum(weight[c] * image): gradients and occlusion effects are known exactly."""

    def __init__(self, weight: torch.Tensor) -> None:
        super().__init__()
        self.weight = nn.Parameter(weight)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return torch.einsum("bchw,kchw->bk", images, self.weight)


class TinyCnn(nn.Module):
    """timm's interface in miniature: forward_features = ReLU(conv 3x3, 3 -> 4 channels, same size);
    forward_head = mean pool, functional dropout (on with the top module's training flag), linear 4 -> 3."""

    def __init__(self, drop_rate: float = 0.5) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.act = nn.ReLU()
        self.norm = nn.BatchNorm2d(4)
        self.classifier = nn.Linear(4, 3)
        self.drop_rate = drop_rate

    def forward_features(self, images: torch.Tensor) -> torch.Tensor:
        return self.act(self.norm(self.conv(images)))

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        pooled = F.dropout(features.mean(dim=(2, 3)), p=self.drop_rate, training=self.training)
        return self.classifier(pooled)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(images))


def tiny_cnn(seed: int = 0) -> LoadedImageModel:
    """A seeded TinyCnn on 16 x 16 inputs, 3 classes."""
    torch.manual_seed(seed)
    model = TinyCnn()
    with torch.no_grad():
        model.norm.running_mean.uniform_(-0.1, 0.1)
        model.norm.running_var.uniform_(0.5, 1.5)
    return wrap(model, size=16, classes=3, family="cnn", dropout_rate=0.5)


def tiny_vit(seed: int = 0) -> LoadedImageModel:
    """A seeded random timm VisionTransformer: 32 x 32 inputs, 8 px patches (4 x 4 grid), 2 blocks, 2 heads."""
    torch.manual_seed(seed)
    model = timm.create_model("vit_tiny_patch16_224", pretrained=False, img_size=32, patch_size=8, depth=2,
                              num_heads=2, embed_dim=16, num_classes=4)
    return wrap(model, size=32, classes=4, family="vit")
