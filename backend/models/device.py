"""Where models run: CUDA when present, CPU otherwise; one code path either way."""
from __future__ import annotations

import os

import torch


def pick_device() -> str:
    """UQLENS_DEVICE if set (e.g. "cpu", "cuda:1"), else "cuda" when available, else "cpu"."""
    wanted = os.environ.get("UQLENS_DEVICE", "").strip()
    if wanted:
        return wanted
    return "cuda" if torch.cuda.is_available() else "cpu"


def model_dtype(device: str) -> torch.dtype:
    """bfloat16 on CUDA (halves memory, tensor cores), float32 on CPU. UQLENS_DTYPE overrides
    ("float32", "bfloat16", "float16"). Statistics are always computed in float64 from the logits."""
    wanted = os.environ.get("UQLENS_DTYPE", "").strip()
    if wanted:
        return getattr(torch, wanted)
    return torch.bfloat16 if device.startswith("cuda") else torch.float32
