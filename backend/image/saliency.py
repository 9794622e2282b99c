"""Saliency maps over the model's input crop: which pixels move the target, by several methods side by side.

The target is a class's logit (the top class or one the user picks; the temperature does not change it) or the
predictive entropy in nats at the request's temperature (which pixels make the model unsure). Every map has the input crop's size (S x S). Captum computes the attribution
methods; the class-activation maps come from backend.analyses.saliency_maps on the last convolutional feature
map (timm's forward_features); attention rollout from backend.analyses.attention_rollout. The caller holds the
model's lock; eval() and the attention modules are restored in `finally`.
"""
from __future__ import annotations

import math
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator, Literal, Optional

import torch
from captum.attr import IntegratedGradients, NoiseTunnel, Occlusion, Saliency

from backend.analyses.attention_rollout import attention_rollout, class_token_map
from backend.analyses.augmentations import normalize
from backend.analyses.classifier_stats import distribution_stats
from backend.analyses.saliency_maps import grad_cam, layer_cam, reduce_channels, summarize_map, upsample
from backend.budget import checkpoint
from backend.errors import UserInputError
from backend.image.input import ReadImage
from backend.image.methods import ImageMethod, works_on
from backend.image.prediction import MAX_BATCH, batched_logits, png_bytes, prepare, rng_devices
from backend.models.image_loader import LoadedImageModel
from backend.parameters import Parameter
from backend.registry import Registry
from backend.schemas.image import SaliencyAnalysis, SaliencyMap, SaliencyRequest, SaliencySummary

SIGNIFICANT_DIGITS = 5


@dataclass(frozen=True)
class Target:
    """What is explained: class `index`'s logit, or, when index is None, the predictive entropy (nats) of the
    softmax of logits / temperature."""

    index: Optional[int]
    temperature: float = 1.0


@dataclass
class SaliencyInput:
    """lm: the model, in eval mode. batch: (1, 3, S, S) normalised input on the device. black: the all-black
    image, normalised the same way (integrated gradients' baseline). seed: for noise draws. images_forwarded:
    counts every image any forward pass of the method saw."""

    lm: LoadedImageModel
    batch: torch.Tensor
    black: torch.Tensor
    target: Target
    seed: int
    images_forwarded: int = 0

    def scores(self, logits: torch.Tensor) -> torch.Tensor:
        """The target per image (B,) from logits (B, C)."""
        if self.target.index is not None:
            return logits[:, self.target.index]
        logprobs = torch.log_softmax(logits / self.target.temperature, dim=-1)
        return -(logprobs.exp() * logprobs).sum(dim=-1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Target scores (B,) of images (B, 3, S, S); counts the images."""
        checkpoint()
        self.images_forwarded += images.shape[0]
        return self.scores(self.lm.model(images))


@dataclass(frozen=True)
class MethodOutput:
    """saliency: (S, S) float64 on the CPU. convergence_delta: integrated gradients only."""

    saliency: torch.Tensor
    convergence_delta: Optional[float] = None


@dataclass(frozen=True, kw_only=True)
class SaliencyMethod(ImageMethod):
    """A registry entry: metadata, the function (input, parameters) -> map; a larger value is more relevant."""

    higher_is: Literal["relevant"] = "relevant"
    compute: Callable[[SaliencyInput, dict[str, float]], MethodOutput]


def activation_map(source: SaliencyInput,
                   combine: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> MethodOutput:
    """A class-activation map from the last feature map's activations and the target's gradient there."""
    with torch.enable_grad():
        features = source.lm.model.forward_features(source.batch)
        source.images_forwarded += 1
        score = source.scores(source.lm.model.forward_head(features)).sum()
        gradients, = torch.autograd.grad(score, features)
    cam = combine(features[0].detach(), gradients[0])
    return MethodOutput(upsample(cam, tuple(source.batch.shape[-2:])).cpu())


def grad_cam_method(source: SaliencyInput, params: dict[str, float]) -> MethodOutput:
    return activation_map(source, grad_cam)


def layer_cam_method(source: SaliencyInput, params: dict[str, float]) -> MethodOutput:
    return activation_map(source, layer_cam)


def integrated_gradients_method(source: SaliencyInput, params: dict[str, float]) -> MethodOutput:
    """Attributions summed over colour channels; completeness: they add up to f(input) - f(black)."""
    attribution, delta = IntegratedGradients(source.forward).attribute(
        source.batch.clone().requires_grad_(True), baselines=source.black, n_steps=int(params["steps"]),
        internal_batch_size=MAX_BATCH, return_convergence_delta=True)
    return MethodOutput(reduce_channels(attribution[0].detach().to(torch.float64), "sum").cpu(),
                        convergence_delta=float(delta[0]))


def occlusion_method(source: SaliencyInput, params: dict[str, float]) -> MethodOutput:
    """f(input) - f(input with a square set to the mean colour, 0 after normalisation: grey), averaged over the
    squares covering each pixel."""
    window, stride = int(params["window"]), int(params["stride"])
    with torch.no_grad():
        attribution = Occlusion(source.forward).attribute(
            source.batch, sliding_window_shapes=(3, window, window), strides=(3, stride, stride), baselines=0.0,
            perturbations_per_eval=MAX_BATCH)
    return MethodOutput(attribution[0].to(torch.float64).mean(dim=0).cpu())


def gradient_method(source: SaliencyInput, params: dict[str, float]) -> MethodOutput:
    """|d target / d pixel|, largest over colour channels."""
    attribution = Saliency(source.forward).attribute(source.batch.clone().requires_grad_(True), abs=True)
    return MethodOutput(reduce_channels(attribution[0].detach().to(torch.float64), "max_abs").cpu())


def smoothgrad_method(source: SaliencyInput, params: dict[str, float]) -> MethodOutput:
    """Mean |gradient| over noisy copies of the input; noise sigma = `noise` x the input's value range."""
    sigma = float(params["noise"]) * float(source.batch.max() - source.batch.min())
    with torch.random.fork_rng(devices=rng_devices(source.lm.device)):
        torch.manual_seed(source.seed)
        attribution = NoiseTunnel(Saliency(source.forward)).attribute(
            source.batch.clone().requires_grad_(True), nt_type="smoothgrad", nt_samples=int(params["samples"]),
            nt_samples_batch_size=MAX_BATCH, stdevs=sigma, abs=True)
    return MethodOutput(reduce_channels(attribution[0].detach().to(torch.float64), "max_abs").cpu())


@contextmanager
def captured_attention(model: torch.nn.Module, store: list[torch.Tensor]) -> Iterator[None]:
    """Record every block's attention probabilities (B, heads, T, T) into store during forward passes.

    Switches timm's fused attention off (it never materialises the probabilities) and hooks each block's
    attention dropout, whose input they are; both are undone on exit.
    """
    attentions = [block.attn for block in model.blocks]
    fused = [attn.fused_attn for attn in attentions]
    handles = [attn.attn_drop.register_forward_hook(lambda _m, inputs, _o: store.append(inputs[0].detach()))
               for attn in attentions]
    try:
        for attn in attentions:
            attn.fused_attn = False
        yield
    finally:
        for handle in handles:
            handle.remove()
        for attn, was_fused in zip(attentions, fused):
            attn.fused_attn = was_fused


def attention_rollout_method(source: SaliencyInput, params: dict[str, float]) -> MethodOutput:
    """Rollout of the class token's attention to the patches, upsampled from the patch grid."""
    model = source.lm.model
    store: list[torch.Tensor] = []
    with captured_attention(model, store), torch.no_grad():
        model(source.batch)
    source.images_forwarded += 1
    rollout = attention_rollout([layer[0] for layer in store])
    grid = tuple(model.patch_embed.grid_size)
    patch_map = class_token_map(rollout, model.num_prefix_tokens, grid)
    return MethodOutput(upsample(patch_map, tuple(source.batch.shape[-2:])).cpu())


def _int_parameter(name: str, label: str, default: int, minimum: int, maximum: int, step: int,
                   help: str) -> Parameter:
    """A whole-number setting shown with its step."""
    return Parameter(name=name, label=label, kind="int", default=default, minimum=minimum, maximum=maximum,
                     step=step, help=help)


SALIENCY_METHODS: Registry[SaliencyMethod] = Registry("saliency method")
for _method in (
    SaliencyMethod(
        name="grad_cam", label="Grad-CAM", needs="cnn", cost="1 forward + 1 backward",
        description="Last feature map weighted by the target's mean gradient per channel; coarse (one cell per "
                    "32 px) but class-specific.",
        paper="Selvaraju et al., Grad-CAM, ICCV 2017", compute=grad_cam_method),
    SaliencyMethod(
        name="layer_cam", label="Layer-CAM", needs="cnn", cost="1 forward + 1 backward",
        description="Like Grad-CAM, but each position weighted by its own positive gradient: tighter maps.",
        paper="Jiang et al., LayerCAM, IEEE TIP 2021", compute=layer_cam_method),
    SaliencyMethod(
        name="integrated_gradients", label="Integrated gradients", signed=True, cost="steps forward + backward",
        description="Gradients averaged along the straight path from a black image to this one; red pushes the "
                    "target up, blue down. The attributions sum to f(image) - f(black) up to the convergence delta.",
        paper="Sundararajan et al., Axiomatic Attribution for Deep Networks, ICML 2017",
        parameters=(_int_parameter("steps", "Steps", 64, 8, 256, 8,
                                   "points on the path; more shrink the convergence delta"),),
        compute=integrated_gradients_method),
    SaliencyMethod(
        name="occlusion", label="Occlusion", signed=True, cost="one forward per window position",
        description="Grey out a square, see how much the target drops; red = the target needs this region, blue = "
                    "the target rises without it.",
        paper="Zeiler & Fergus, Visualizing and Understanding Convolutional Networks, ECCV 2014",
        parameters=(_int_parameter("window", "Window (px)", 56, 8, 112, 8, "side of the grey square"),
                    _int_parameter("stride", "Stride (px)", 28, 4, 56, 4,
                                   "step between squares; smaller is finer and slower")),
        compute=occlusion_method),
    SaliencyMethod(
        name="gradient", label="Vanilla gradient", cost="1 forward + 1 backward",
        description="|d target / d pixel|: where a tiny change would move the target most; sharp but noisy.",
        paper="Simonyan et al., Deep Inside Convolutional Networks, ICLR Workshop 2014", compute=gradient_method),
    SaliencyMethod(
        name="smoothgrad", label="SmoothGrad", cost="samples forward + backward",
        description="The gradient map averaged over noisy copies of the image: the noise cancels, the shape stays.",
        paper="Smilkov et al., SmoothGrad: removing noise by adding noise, 2017",
        parameters=(_int_parameter("samples", "Samples", 16, 4, 64, 4, "noisy copies averaged"),
                    Parameter(name="noise", label="Noise level", kind="float", default=0.15, minimum=0.05,
                              maximum=0.5, step=0.05, help="noise sigma as a share of the input's range")),
        compute=smoothgrad_method),
    SaliencyMethod(
        name="attention_rollout", label="Attention rollout", needs="vit", cost="1 forward",
        description="How much each patch flows into the class token through all attention layers; the same for "
                    "every target (it does not look at the class).",
        paper="Abnar & Zuidema, Quantifying Attention Flow in Transformers, ACL 2020",
        compute=attention_rollout_method),
):
    SALIENCY_METHODS.register(_method)


def compact(values: torch.Tensor) -> list[list[float]]:
    """The map as nested lists, rounded to SIGNIFICANT_DIGITS relative to its largest |value| (keeps JSON
    small without changing what can be seen)."""
    scale = float(values.abs().max())
    digits = SIGNIFICANT_DIGITS - 1 - math.floor(math.log10(scale)) if scale > 0 else 0
    return [[round(v, digits) for v in row] for row in values.tolist()]


def resolve_target(lm: LoadedImageModel, request: SaliencyRequest, logits: torch.Tensor) -> tuple[Target, str, float]:
    """The target, its label and its value (class probability, or entropy in nats) at the request's temperature."""
    stats = distribution_stats(logits, temperature=request.temperature, top_k=1)
    if request.target == "entropy":
        return Target(None, request.temperature), "predictive entropy", stats.entropy
    index = stats.top_indices[0] if request.target == "top" else int(request.class_index)
    if index >= lm.num_classes:
        raise UserInputError(f"class {index} does not exist; {lm.spec.id} has classes 0 to {lm.num_classes - 1}")
    return Target(index), lm.class_names[index], float(stats.probs[index])


def analyze_saliency(lm: LoadedImageModel, request: SaliencyRequest, read: ReadImage) -> SaliencyAnalysis:
    """Every requested method's map of one target. Parameters are checked before any work starts."""
    started = time.perf_counter()
    methods = [SALIENCY_METHODS.get(name) for name in request.methods]
    for method in methods:
        if not works_on(lm.family)(method):
            raise UserInputError(f"{method.label} needs a {method.needs.upper()} model; "
                                 f"{lm.spec.id} is a {lm.family.upper()}")
    unknown = sorted(set(request.params) - set(request.methods))
    if unknown:
        raise UserInputError(f"parameters given for {', '.join(unknown)}, which were not asked for")
    params = [m.check(request.params.get(m.name, {})) for m in methods]
    prepared = prepare(lm, read.image)
    lm.model.eval()
    target, label, value = resolve_target(lm, request, batched_logits(lm.model, prepared.batch)[0])
    black = normalize(torch.zeros_like(prepared.crop), lm.preprocessing.mean, lm.preprocessing.std)[None]
    maps = []
    try:
        for method, values in zip(methods, params):
            source = SaliencyInput(lm=lm, batch=prepared.batch, black=black.to(lm.device), target=target,
                                   seed=request.seed)
            method_started = time.perf_counter()
            output = method.compute(source, values)
            summary = summarize_map(output.saliency)
            maps.append(SaliencyMap(
                method=method.name, label=method.label, shape=tuple(output.saliency.shape),
                values=compact(output.saliency), signed=method.signed,
                summary=SaliencySummary(**vars(summary)), convergence_delta=output.convergence_delta,
                params=values, passes=source.images_forwarded, seconds=time.perf_counter() - method_started))
    finally:
        lm.model.eval()
    return SaliencyAnalysis(model=lm.spec.id, device=lm.device, target=request.target, target_index=target.index,
                            target_label=label, target_value=value, temperature=request.temperature,
                            model_input_png=png_bytes(prepared.crop),
                            maps=maps, seconds=time.perf_counter() - started)
