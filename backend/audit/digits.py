"""A small digits classifier, trained reproducibly at set-up from scikit-learn's bundled 8x8 digits.

The 1,797 images are split once (stratified, seed 0) into 70 % for training and 30 % held out; the audit only
ever sees the held-out images. The model is a 64-32-10 MLP trained full-batch with Adam (seed 0, 150 steps, a few
seconds on CPU), its weights cached as safetensors in the cache folder and reused afterwards.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 0
TEST_FRACTION = 0.3
HIDDEN = 32
STEPS = 150
LEARNING_RATE = 0.01
WEIGHTS_NAME = "digits-mlp-v1.safetensors"
MODEL_ID = "digits-mlp (64-32-10, sklearn digits, seed 0)"


@lru_cache(maxsize=1)
def split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train images (N, 64), held-out images (M, 64), train labels (N,), held-out labels (M,)), pixels in [0, 1].

    Read and split once per process (every audit batch and plan asks again); the arrays are read-only."""
    data = load_digits()
    images = (data.data / 16.0).astype(np.float32)
    parts = train_test_split(images, data.target, test_size=TEST_FRACTION, random_state=SEED, stratify=data.target)
    for part in parts:
        part.setflags(write=False)
    return tuple(parts)


def test_size() -> int:
    """How many held-out images there are."""
    return len(split()[1])


def build_model() -> torch.nn.Sequential:
    """The untrained 64-32-10 MLP."""
    return torch.nn.Sequential(torch.nn.Linear(64, HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, 10))


def train_model() -> torch.nn.Sequential:
    """Train from the seed on the training split only; deterministic on CPU."""
    train_x, _, train_y, _ = split()
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(SEED)
    model = build_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    x, y = torch.from_numpy(train_x), torch.from_numpy(train_y).long()
    for _ in range(STEPS):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    torch.random.set_rng_state(generator_state)
    return model.eval()


def weights_path(cache_dir: Path) -> Path:
    return Path(cache_dir) / "digits" / WEIGHTS_NAME


def prepare_digits(cache_dir: Path) -> Path:
    """Train once and cache the weights; returns their path (safe to re-run)."""
    path = weights_path(cache_dir)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        save_file(train_model().state_dict(), str(path))
    return path


def digits_model(cache_dir: Path) -> torch.nn.Sequential:
    """The trained classifier, from the cache (trained first when missing)."""
    model = build_model()
    model.load_state_dict(load_file(str(prepare_digits(cache_dir))))
    return model.eval()


def classify(model: torch.nn.Sequential, indices: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """(softmax probabilities (B, 10), true labels (B,)) of the held-out images at these indices."""
    _, test_x, _, test_y = split()
    chosen = np.asarray(indices, dtype=np.int64)
    with torch.inference_mode():
        logits = model(torch.from_numpy(test_x[chosen])).double()
    return torch.softmax(logits, dim=1).numpy(), test_y[chosen]

