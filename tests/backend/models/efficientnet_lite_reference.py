"""An independent forward pass of EfficientNet-Lite0 straight from the lukemelas-style state dict.

Written from the TensorFlow reference (tensorflow/tpu models/official/efficientnet/lite, as ported by
lukemelas/EfficientNet-PyTorch): TensorFlow "SAME" padding, BatchNorm epsilon 1e-3, ReLU6, no squeeze-excite,
stem and head not scaled. Used only by tests, to check the timm model the loader builds.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

BN_EPS = 1e-3
# (repeats, kernel, stride, expand ratio, output channels) per stage of EfficientNet-Lite0
STAGES = [(1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80), (3, 5, 1, 6, 112),
          (4, 5, 2, 6, 192), (1, 3, 1, 6, 320)]


def same_conv(x: torch.Tensor, weight: torch.Tensor, stride: int, groups: int = 1) -> torch.Tensor:
    """Convolution with TensorFlow's SAME padding: output size ceil(input / stride), extra pad at the end."""
    pads = []
    for size, kernel in zip(reversed(x.shape[-2:]), reversed(weight.shape[-2:])):
        total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
        pads += [total // 2, total - total // 2]
    return F.conv2d(F.pad(x, pads), weight, stride=stride, groups=groups)


def batch_norm(x: torch.Tensor, sd: dict, prefix: str) -> torch.Tensor:
    return F.batch_norm(x, sd[f"{prefix}.running_mean"], sd[f"{prefix}.running_var"], sd[f"{prefix}.weight"],
                        sd[f"{prefix}.bias"], training=False, eps=BN_EPS)


def reference_logits(sd: dict, images: torch.Tensor) -> torch.Tensor:
    """Logits (B, 1000) of normalised images (B, 3, H, W) from the raw lukemelas state dict."""
    x = F.relu6(batch_norm(same_conv(images, sd["_conv_stem.weight"], 2), sd, "_bn0"))
    index = 0
    for repeats, kernel, stride, expand, _ in STAGES:
        for r in range(repeats):
            p = f"_blocks.{index}"
            inputs = x
            if expand != 1:
                x = F.relu6(batch_norm(same_conv(x, sd[f"{p}._expand_conv.weight"], 1), sd, f"{p}._bn0"))
            x = F.relu6(batch_norm(same_conv(x, sd[f"{p}._depthwise_conv.weight"], stride if r == 0 else 1,
                                             groups=x.shape[1]), sd, f"{p}._bn1"))
            x = batch_norm(same_conv(x, sd[f"{p}._project_conv.weight"], 1), sd, f"{p}._bn2")
            if r > 0:
                x = x + inputs
            index += 1
    x = F.relu6(batch_norm(same_conv(x, sd["_conv_head.weight"], 1), sd, "_bn1"))
    return F.linear(x.mean(dim=(2, 3)), sd["_fc.weight"], sd["_fc.bias"])
