"""Epistemic vs. aleatoric: K stochastic passes over one image, by MC dropout or test-time augmentation.

MC dropout (Gal & Ghahramani, "Dropout as a Bayesian Approximation", ICML 2016) keeps dropout on at test time;
the disagreement between passes (mutual information) estimates the model's own (epistemic) uncertainty. Only
the dropout on the classifier's input is switched on, at the rate the network was built with (p = 0.2 for
EfficientNet-Lite0, as trained); BatchNorm keeps its running statistics and drop-path (stochastic depth) stays
off. Test-time augmentation (Ayhan & Berens, MIDL 2018) varies the input instead (shifted crop, flip, small
brightness/contrast change): its spread shows how much the answer hangs on nuisance changes of the data.

Passes run as batches (up to MAX_BATCH images per forward pass); each image in a batch gets its own dropout mask.
Each pass's probabilities are the softmax of its logits divided by the request's temperature.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import torch

from backend.analyses.augmentations import apply_augmentation, draw_augmentations, normalize
from backend.analyses.classifier_stats import ensemble_stats
from backend.image.input import ReadImage
from backend.image.methods import ImageMethod
from backend.image.prediction import MAX_BATCH, PreparedImage, batched_logits, class_scores, prepare, rng_devices
from backend.models.image_loader import LoadedImageModel
from backend.parameters import Parameter
from backend.registry import Registry
from backend.schemas.image import MAX_PASSES, ClassSpread, ImageUncertainty, UncertaintyRequest

PASSES_PARAMETER = Parameter(name="passes", label="Passes (K)", kind="int", default=16, minimum=2, maximum=MAX_PASSES,
                             step=1, help="stochastic forward passes; more give steadier estimates")


@dataclass(frozen=True)
class PassResult:
    """logits: (K, C) float64 of each pass. labels: one description per pass. stochastic_part: what varied
    between passes, in plain words."""

    logits: torch.Tensor
    labels: list[str]
    stochastic_part: str

    @property
    def probs(self) -> torch.Tensor:
        """(K, C) softmax of each pass's logits at temperature 1."""
        return self.at_temperature(1.0)

    def at_temperature(self, temperature: float) -> torch.Tensor:
        """(K, C) softmax of each pass's logits divided by temperature (> 0)."""
        return torch.softmax(self.logits / temperature, dim=-1)


@dataclass(frozen=True, kw_only=True)
class UncertaintyMethod(ImageMethod):
    """A registry entry: metadata and the function that runs K passes (model, image, K, seed, max batch)."""

    run: Callable[[LoadedImageModel, PreparedImage, int, int, int], PassResult]


@contextmanager
def mc_dropout_mode(model: torch.nn.Module) -> Iterator[None]:
    """Dropout on, everything else in eval mode; eval() restored on exit, also after an error.

    Sets the top module's own `training` flag (timm applies its classifier-input dropout functionally, gated by
    it) and switches on nn.Dropout modules; BatchNorm, drop-path and the other children stay in eval mode.
    """
    try:
        model.eval()
        model.training = True
        for module in model.modules():
            if isinstance(module, torch.nn.modules.dropout._DropoutNd):
                module.train()
        yield
    finally:
        model.eval()


def mc_dropout_passes(lm: LoadedImageModel, prepared: PreparedImage, passes: int, seed: int,
                      max_batch: int = MAX_BATCH) -> PassResult:
    """K forward passes of the same image with dropout on: the image repeated K times in batches of max_batch
    (max_batch=1 runs K separate passes). The caller holds the model's lock."""
    batch = prepared.batch.expand(passes, -1, -1, -1).contiguous()
    with torch.random.fork_rng(devices=rng_devices(lm.device)), mc_dropout_mode(lm.model):
        torch.manual_seed(seed)
        logits = batched_logits(lm.model, batch, max_batch=max_batch)
    return PassResult(logits=logits, labels=[f"dropout mask {k + 1}" for k in range(passes)],
                      stochastic_part=f"dropout p = {lm.dropout_rate:g} on the pooled features before the "
                                      f"classifier (BatchNorm and drop-path fixed)")


def tta_passes(lm: LoadedImageModel, prepared: PreparedImage, passes: int, seed: int,
               max_batch: int = MAX_BATCH) -> PassResult:
    """K augmented copies of the image (random crop of the resized photo, flip, brightness, contrast) through
    the model in eval mode, in batches of max_batch."""
    size = lm.preprocessing.size
    generator = torch.Generator().manual_seed(seed)
    augmentations = draw_augmentations(passes, *prepared.resized.shape[-2:], size, generator)
    batch = torch.stack([normalize(apply_augmentation(prepared.resized, a, size), lm.preprocessing.mean,
                                   lm.preprocessing.std) for a in augmentations]).to(lm.device)
    lm.model.eval()
    logits = batched_logits(lm.model, batch, max_batch=max_batch)
    return PassResult(logits=logits, labels=[a.describe() for a in augmentations],
                      stochastic_part="the input: a random crop position, a horizontal flip with probability "
                                      "1/2, brightness and contrast x0.9-1.1 (model fixed)")


UNCERTAINTY_METHODS: Registry[UncertaintyMethod] = Registry("uncertainty method")
UNCERTAINTY_METHODS.register(UncertaintyMethod(
    name="mc_dropout", label="MC dropout",
    description="Dropout stays on at test time; each pass is a different thinned network. Their disagreement "
                "(mutual information) is the model's own, epistemic, uncertainty.",
    paper="Gal & Ghahramani, Dropout as a Bayesian Approximation, ICML 2016",
    parameters=(PASSES_PARAMETER,), higher_is="uncertain", cost="K forward passes, batched", run=mc_dropout_passes))
UNCERTAINTY_METHODS.register(UncertaintyMethod(
    name="tta", label="Test-time augmentation",
    description="The same model sees K slightly changed copies of the image (crop, flip, light). Their spread "
                "shows how much the answer depends on nuisance changes of the data (aleatoric side).",
    paper="Ayhan & Berens, Test-time Data Augmentation for Estimation of Heteroscedastic Aleatoric Uncertainty, "
          "MIDL 2018",
    parameters=(PASSES_PARAMETER,), higher_is="uncertain", cost="K forward passes, batched", run=tta_passes))


def analyze_uncertainty(lm: LoadedImageModel, request: UncertaintyRequest, read: ReadImage) -> ImageUncertainty:
    """Run the request's method and summarise at the request's temperature: mean prediction, entropy split,
    per-class spread over passes."""
    started = time.perf_counter()
    method = UNCERTAINTY_METHODS.get(request.method)
    result = method.run(lm, prepare(lm, read.image), request.passes, request.seed, MAX_BATCH)
    probs = result.at_temperature(request.temperature)
    stats = ensemble_stats(probs)
    order = sorted(range(lm.num_classes), key=lambda i: (-float(stats.mean[i]), i))[:request.top_k]
    spreads = [ClassSpread(label=lm.class_names[i], index=i, mean=float(stats.mean[i]), std=float(stats.std[i]),
                           per_pass=probs[:, i].tolist()) for i in order]
    return ImageUncertainty(
        model=lm.spec.id, device=lm.device, method=request.method, label=method.label, passes=request.passes,
        seed=request.seed, stochastic_part=result.stochastic_part, pass_labels=result.labels,
        predictive_entropy=stats.predictive_entropy, expected_entropy=stats.expected_entropy,
        mutual_information=stats.mutual_information, max_entropy=float(np.log(lm.num_classes)),
        agreement=stats.agreement, mean_top_k=class_scores(lm, order, [float(stats.mean[i]) for i in order]),
        classes=spreads, temperature=request.temperature, seconds=time.perf_counter() - started)
