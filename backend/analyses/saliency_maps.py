"""Class-activation maps and the reductions that turn attributions into one map per image.

Pure functions on tensors. Grad-CAM: Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks via
Gradient-based Localization" (ICCV 2017). Layer-CAM: Jiang et al., "LayerCAM: Exploring Hierarchical Class
Activation Maps for Localization" (IEEE TIP 2021).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class MapSummary:
    """minimum, maximum, mean of the map; top10_share: share of sum |value| held by the 10% of pixels with the
    largest |value| (0.1 for a flat map, 1 when all weight sits in a tenth of the image); peak: (row, col) of the
    largest value."""

    minimum: float
    maximum: float
    mean: float
    top10_share: float
    peak_row: int
    peak_col: int


def _check_pair(activations: torch.Tensor, gradients: torch.Tensor) -> None:
    if activations.ndim != 3 or activations.shape != gradients.shape:
        raise ValueError(f"expected activations and gradients of one shape (C, h, w), got "
                         f"{tuple(activations.shape)} and {tuple(gradients.shape)}")


def grad_cam(activations: torch.Tensor, gradients: torch.Tensor) -> torch.Tensor:
    """Grad-CAM map (h, w) = ReLU(sum_c alpha_c A_c), alpha_c = mean over positions of dy/dA_c.

    activations A, gradients dy/dA: (C, h, w) at one layer for one image and one scalar target y.
    """
    _check_pair(activations, gradients)
    weights = gradients.mean(dim=(1, 2))
    return torch.relu((weights[:, None, None] * activations).sum(dim=0))


def layer_cam(activations: torch.Tensor, gradients: torch.Tensor) -> torch.Tensor:
    """Layer-CAM map (h, w) = ReLU(sum_c ReLU(dy/dA_c) * A_c): a weight per position, not per channel.

    activations, gradients: (C, h, w) as for grad_cam.
    """
    _check_pair(activations, gradients)
    return torch.relu((torch.relu(gradients) * activations).sum(dim=0))


def upsample(saliency: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize of a map (h, w) to size (H, W), float64, with half-pixel centres (align_corners=False)."""
    return F.interpolate(saliency[None, None].to(torch.float64), size=size, mode="bilinear",
                         align_corners=False)[0, 0]


def reduce_channels(attribution: torch.Tensor, how: str) -> torch.Tensor:
    """One value per pixel from a (3, H, W) attribution: "sum" keeps signs and completeness (integrated
    gradients, occlusion), "max_abs" is the largest |value| over channels (Simonyan et al. 2014, SmoothGrad)."""
    if attribution.ndim != 3:
        raise ValueError(f"expected an attribution of shape (3, H, W), got {tuple(attribution.shape)}")
    if how == "sum":
        return attribution.sum(dim=0)
    if how == "max_abs":
        return attribution.abs().amax(dim=0)
    raise ValueError(f"unknown channel reduction {how!r}; use 'sum' or 'max_abs'")


def summarize_map(saliency: torch.Tensor) -> MapSummary:
    """The summary numbers of a map (H, W)."""
    if saliency.ndim != 2 or saliency.numel() == 0:
        raise ValueError(f"expected a map of shape (H, W), got {tuple(saliency.shape)}")
    flat = saliency.to(torch.float64).flatten()
    magnitude = flat.abs()
    total = float(magnitude.sum())
    strongest = magnitude.topk(max(1, int(round(0.1 * flat.numel())))).values
    peak = int(flat.argmax())
    return MapSummary(minimum=float(flat.min()), maximum=float(flat.max()), mean=float(flat.mean()),
                      top10_share=float(strongest.sum()) / total if total > 0 else 0.0,
                      peak_row=peak // saliency.shape[1], peak_col=peak % saliency.shape[1])
