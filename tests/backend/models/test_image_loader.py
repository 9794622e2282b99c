"""Loading image classifiers: the in-order weight mapping, weight files, preprocessing, and the real default
EfficientNet-Lite0 checked against an independent forward pass and on scikit-image's photos."""
from __future__ import annotations

import json
from collections import OrderedDict

import pytest
import timm
import torch
from safetensors.torch import save_file

from backend.engine import Engine
from backend.errors import ModelLoadError
from backend.image.input import read_image
from backend.image.prediction import predict, prepare
from backend.models.image_loader import (TF_PORT_OPTIONS, Preprocessing, imagenet_or_numbered, load_state_dict_file,
                                         map_in_order)
from backend.models.registry import ModelRegistry, ModelSpec, build_registry, resolve_location
from backend.schemas import DEFAULT_IMAGE_MODEL
from backend.schemas.image import ImageInput, ImageRequest
from tests.backend.models.efficientnet_lite_reference import reference_logits

CAT_CLASSES = {281, 282, 283, 284, 285}  # tabby, tiger cat, Persian, Siamese, Egyptian cat
ESPRESSO = 967


def tensors(*shapes_by_name: tuple[str, tuple[int, ...]]) -> OrderedDict:
    return OrderedDict((name, torch.zeros(shape)) for name, shape in shapes_by_name)


def test_map_in_order_renames_by_position():
    source = tensors(("_conv.weight", (4, 3)), ("_bn.bias", (4,)))
    source["_conv.weight"] += 1.5
    mapped = map_in_order(source, tensors(("conv.weight", (4, 3)), ("bn.bias", (4,))))
    assert list(mapped) == ["conv.weight", "bn.bias"] and float(mapped["conv.weight"][0, 0]) == 1.5


@pytest.mark.parametrize("source, message", [
    (tensors(("a.weight", (4, 3))), "hold 1 tensors but the network has 2"),
    (tensors(("a.weight", (4, 3)), ("b.bias", (5,))), r"tensor 1: b.bias \(5,\) does not fit bn.bias \(4,\)"),
    (tensors(("a.weight", (4, 3)), ("b.weight", (4,))), "tensor 1: b.weight"),
])
def test_map_in_order_fails_loudly(source, message):
    with pytest.raises(ValueError, match=message):
        map_in_order(source, tensors(("conv.weight", (4, 3)), ("bn.bias", (4,))))


def test_weight_files_safetensors_and_torch(tmp_path):
    weights = {"w": torch.arange(6.0).reshape(2, 3)}
    save_file(weights, str(tmp_path / "w.safetensors"))
    torch.save({"state_dict": weights}, tmp_path / "w.pth")
    assert torch.equal(load_state_dict_file(tmp_path / "w.safetensors")["w"], weights["w"])
    assert torch.equal(load_state_dict_file(tmp_path / "w.pth")["w"], weights["w"])
    with pytest.raises(FileNotFoundError):
        load_state_dict_file(tmp_path / "missing.pth")


def test_pickled_objects_other_than_tensors_are_refused(tmp_path):
    torch.save({"w": torch.zeros(1), "evil": ModelSpec}, tmp_path / "obj.pth")
    with pytest.raises(Exception, match="weights_only|Unsupported|global"):
        load_state_dict_file(tmp_path / "obj.pth")


def test_preprocessing_description():
    preprocessing = Preprocessing(224, 0.875, (127 / 255,) * 3, (128 / 255,) * 3, "bicubic")
    assert preprocessing.resize_to == 256
    assert preprocessing.describe() == ("short side resized to 256 px (bicubic), centre crop 224 x 224, then "
                                        "(pixel - [127.0, 127.0, 127.0]) / [128.0, 128.0, 128.0] on 0-255 values")


def test_class_names():
    names = imagenet_or_numbered(1000)
    assert names[281] == "tabby, tabby cat" and names[ESPRESSO] == "espresso"
    assert imagenet_or_numbered(3) == ["class 0", "class 1", "class 2"]


@pytest.mark.slow
def test_a_registered_timm_vit_with_local_weights_loads_with_its_own_preprocessing(tmp_path):
    torch.manual_seed(0)
    vit = timm.create_model("vit_tiny_patch16_224", pretrained=False)
    save_file(vit.state_dict(), str(tmp_path / "vit.safetensors"))
    (tmp_path / "models.json").write_text(json.dumps([{
        "id": "my-vit", "kind": "image", "loader": "timm", "arch": "vit_tiny_patch16_224",
        "location": str(tmp_path / "vit.safetensors")}]))
    engine = Engine(registry=build_registry({"UQLENS_MODELS_FILE": str(tmp_path / "models.json")}), device="cpu")
    lm = engine.image_model("my-vit")
    assert lm.family == "vit" and lm.preprocessing.mean == (0.5, 0.5, 0.5) and lm.preprocessing.size == 224
    methods = engine.image_methods("my-vit")
    assert "attention_rollout" in [m.name for m in methods.saliency]
    assert "grad_cam" not in [m.name for m in methods.saliency]


def test_a_missing_weights_file_is_a_model_load_error(tmp_path):
    registry = ModelRegistry()
    registry.register(ModelSpec("gone", "image", "timm", str(tmp_path / "none.pth"), "d", arch="resnet18"))
    with pytest.raises(ModelLoadError, match="could not load model 'gone'"):
        Engine(registry=registry, device="cpu").image_model("gone")


@pytest.mark.slow
def test_default_model_equals_an_independent_forward_of_the_original_weights(default_image_model):
    weights = torch.load(resolve_location(build_registry().get(DEFAULT_IMAGE_MODEL).location), map_location="cpu",
                         weights_only=True)
    images = torch.stack([prepare(default_image_model, read_image(ImageInput(sample=name)).image).batch[0]
                          for name in ("cat", "rocket")])
    with torch.no_grad():
        ours = default_image_model.model(images)
        reference = reference_logits(weights, images)
        timm_defaults = timm.create_model("efficientnet_lite0", pretrained=False)
        timm_defaults.load_state_dict(map_in_order(weights, timm_defaults.state_dict()))
        plain = timm_defaults.eval()(images)
    assert (ours - reference).abs().max() < 1e-3
    assert (plain - reference).abs().max() > 0.1  # why the loader passes TF_PORT_OPTIONS
    assert TF_PORT_OPTIONS == {"pad_type": "same", "bn_eps": 1e-3}


@pytest.mark.slow
@pytest.mark.parametrize("sample, expected", [("cat", CAT_CLASSES), ("coffee", {ESPRESSO})])
def test_default_model_recognises_the_cat_and_the_espresso(default_image_model, sample, expected):
    request = ImageRequest(image=ImageInput(sample=sample))
    result = predict(default_image_model, request, read_image(request.image))
    assert result.top_k[0].index in expected
    assert result.model == DEFAULT_IMAGE_MODEL and len(result.logits) == 1000
