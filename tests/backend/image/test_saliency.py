"""Saliency: every method on tiny models with exactly known answers (a linear model's gradient and occlusion
effects), integrated gradients' completeness, the entropy target, parameter checks, attention capture on a tiny
ViT, and Grad-CAM of the real default model against captum's LayerGradCam."""
from __future__ import annotations

import math

import pytest
import torch
from captum.attr import LayerAttribution, LayerGradCam
from PIL import Image

from backend.analyses.augmentations import normalize
from backend.errors import UserInputError
from backend.image.input import ReadImage, read_image
from backend.image.methods import works_on
from backend.image.prediction import prepare
from backend.image.saliency import (SALIENCY_METHODS, SaliencyInput, Target, analyze_saliency, captured_attention,
                                    compact)
from backend.schemas import DEFAULT_IMAGE_MODEL
from backend.schemas.image import ImageInfo, ImageInput, SaliencyRequest
from tests.backend.tiny_image_models import LinearModel, tiny_cnn, tiny_vit, wrap

SIZE = 8


def random_image(size: int, seed: int = 0) -> ReadImage:
    generator = torch.Generator().manual_seed(seed)
    pixels = (torch.rand(size, size, 3, generator=generator) * 255).to(torch.uint8).numpy()
    return ReadImage(image=Image.fromarray(pixels, "RGB"),
                     info=ImageInfo(width=size, height=size, format="PNG", mode="RGB", name="noise"))


def linear_model(seed: int = 0):
    weight = torch.randn(2, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(seed))
    return wrap(LinearModel(weight), size=SIZE, classes=2, family="other")


def explain(lm, methods, read=None, **fields):
    request = SaliencyRequest(model=lm.spec.id, image=ImageInput(sample="cat"), methods=methods, **fields)
    return analyze_saliency(lm, request, read or random_image(lm.preprocessing.size))


def as_tensor(saliency_map) -> torch.Tensor:
    return torch.tensor(saliency_map.values, dtype=torch.float64)


def close_to(expected: torch.Tensor):
    """Equal up to the maps' rounding: 5 significant digits of the largest |value|."""
    return pytest.approx(expected, abs=1e-4 * float(expected.abs().max()))


def test_gradient_of_a_linear_model_is_its_weight():
    lm = linear_model()
    result = explain(lm, ["gradient", "smoothgrad"], target="class", class_index=1)
    weight = lm.model.weight.detach()[1].to(torch.float64)
    for found in result.maps:  # SmoothGrad of a linear model: the same gradient at every noisy copy
        assert as_tensor(found) == close_to(weight.abs().amax(dim=0))
    assert result.target_index == 1 and result.target_label == "class 1"
    assert [m.passes for m in result.maps] == [1, 16]


def test_occlusion_of_a_linear_model_by_hand():
    lm = linear_model()
    read = random_image(SIZE)
    result = explain(lm, ["occlusion"], read, target="class", class_index=0,
                     params={"occlusion": {"window": 8, "stride": 4}})
    # one window covers the whole 8 x 8 image: every pixel gets f(x) - f(grey 0) = sum(w * x)
    image = prepare(lm, read.image).batch[0].to(torch.float64)
    expected = float((lm.model.weight.detach()[0].to(torch.float64) * image).sum())
    assert as_tensor(result.maps[0]) == close_to(torch.full((SIZE, SIZE), expected))
    assert result.maps[0].passes == 2  # the input once, one occluded copy


def test_integrated_gradients_are_complete_for_a_linear_model():
    lm = linear_model()
    read = random_image(SIZE)
    result = explain(lm, ["integrated_gradients"], read, target="class", class_index=0,
                     params={"integrated_gradients": {"steps": 8}})
    found = result.maps[0]
    image = prepare(lm, read.image).batch[0].to(torch.float64)
    weight = lm.model.weight.detach()[0].to(torch.float64)
    assert as_tensor(found) == close_to((weight * image).sum(dim=0))  # the black baseline is 0 here
    assert abs(found.convergence_delta) < 1e-4
    assert found.signed and found.passes == 8 + 2


def test_integrated_gradients_converge_on_the_tiny_cnn():
    lm = tiny_cnn()
    deltas = [explain(lm, ["integrated_gradients"], params={"integrated_gradients": {"steps": steps}})
              .maps[0].convergence_delta for steps in (8, 128)]
    assert abs(deltas[1]) < 0.02 and abs(deltas[1]) <= abs(deltas[0])


def test_entropy_target_is_the_predictive_entropy():
    lm = tiny_cnn()
    logits = torch.tensor([[1.0, 2.0, 3.0]])
    source = SaliencyInput(lm=lm, batch=torch.zeros(1, 3, 16, 16), black=torch.zeros(1, 3, 16, 16),
                           target=Target(None), seed=0)
    probs = torch.softmax(logits, dim=-1)[0]
    assert float(source.scores(logits)[0]) == pytest.approx(float(-(probs * probs.log()).sum()))
    result = explain(lm, ["gradient", "grad_cam", "layer_cam"], target="entropy")
    assert result.target_index is None and result.target_label == "predictive entropy"
    assert 0 < result.target_value < math.log(3)


def test_the_entropy_target_and_the_reported_probability_follow_the_temperature():
    lm = tiny_cnn()
    logits = torch.tensor([[1.0, 2.0, 3.0]])
    source = SaliencyInput(lm=lm, batch=torch.zeros(1, 3, 16, 16), black=torch.zeros(1, 3, 16, 16),
                           target=Target(None, temperature=2.0), seed=0)
    probs = torch.softmax(logits / 2.0, dim=-1)[0]
    assert float(source.scores(logits)[0]) == pytest.approx(float(-(probs * probs.log()).sum()))
    cold, hot = (explain(lm, ["gradient"], target="entropy", temperature=t) for t in (1.0, 3.0))
    assert hot.temperature == 3.0 and hot.target_value > cold.target_value  # a flatter softmax
    assert hot.maps[0].values != cold.maps[0].values
    top_cold, top_hot = (explain(lm, ["gradient"], temperature=t) for t in (1.0, 3.0))
    assert top_hot.target_index == top_cold.target_index and top_hot.target_value < top_cold.target_value
    assert top_hot.maps[0].values == top_cold.maps[0].values  # a class's logit does not depend on it


def test_every_cnn_method_gives_a_finite_map_of_the_input_size_and_restores_eval():
    lm = tiny_cnn()
    methods = SALIENCY_METHODS.available(keep=works_on("cnn"))
    assert methods == ["grad_cam", "layer_cam", "integrated_gradients", "occlusion", "gradient", "smoothgrad"]
    result = explain(lm, methods, params={"occlusion": {"window": 8, "stride": 4},
                                          "integrated_gradients": {"steps": 8}, "smoothgrad": {"samples": 4}})
    for found in result.maps:
        assert found.shape == (16, 16) and torch.isfinite(as_tensor(found)).all()
        assert found.summary.maximum >= found.summary.minimum
    assert not any(module.training for module in lm.model.modules())


def test_smoothgrad_is_seeded():
    lm = tiny_cnn()
    first, again, other = (explain(lm, ["smoothgrad"], seed=seed).maps[0].values for seed in (1, 1, 2))
    assert first == again and first != other


def test_bad_requests_say_what_to_change():
    lm = tiny_cnn()
    with pytest.raises(UserInputError, match="Integrated gradients: steps must be a whole number from 8 to 256, got 4"):
        explain(lm, ["integrated_gradients"], params={"integrated_gradients": {"steps": 4}})
    with pytest.raises(UserInputError, match="Occlusion has no parameter size"):
        explain(lm, ["occlusion"], params={"occlusion": {"size": 8}})
    with pytest.raises(UserInputError, match="must be a whole number"):
        explain(lm, ["smoothgrad"], params={"smoothgrad": {"samples": 4.5}})
    with pytest.raises(UserInputError, match="were not asked for"):
        explain(lm, ["gradient"], params={"occlusion": {"window": 8}})
    with pytest.raises(UserInputError, match="Attention rollout needs a VIT model"):
        explain(lm, ["attention_rollout"])
    with pytest.raises(UserInputError, match="unknown saliency method 'lime'"):
        explain(lm, ["lime"])
    with pytest.raises(UserInputError, match="class 7 does not exist"):
        explain(lm, ["gradient"], target="class", class_index=7)


def test_captured_attention_is_the_softmax_of_queries_and_keys():
    lm = tiny_vit()
    model = lm.model
    images = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    inputs: list[torch.Tensor] = []
    hook = model.blocks[0].norm1.register_forward_hook(lambda _m, _i, out: inputs.append(out.detach()))
    store: list[torch.Tensor] = []
    with captured_attention(model, store), torch.no_grad():
        model(images)
    hook.remove()
    attn = model.blocks[0].attn
    qkv = attn.qkv(inputs[0]).reshape(1, 17, 3, attn.num_heads, attn.head_dim).permute(2, 0, 3, 1, 4)
    reference = torch.softmax(qkv[0] @ qkv[1].transpose(-2, -1) * attn.head_dim ** -0.5, dim=-1)
    assert len(store) == 2 and store[0].shape == (1, 2, 17, 17)
    assert torch.allclose(store[0], reference, atol=1e-6)
    assert all(block.attn.fused_attn for block in model.blocks)  # restored
    assert not any(block.attn.attn_drop._forward_hooks for block in model.blocks)


def test_attention_rollout_on_a_tiny_vit_is_class_independent():
    lm = tiny_vit()
    assert SALIENCY_METHODS.available(keep=works_on("vit")) == ["integrated_gradients", "occlusion", "gradient", "smoothgrad",
                                                 "attention_rollout"]
    maps = [explain(lm, ["attention_rollout"], target="class", class_index=index).maps[0] for index in (0, 3)]
    assert maps[0].values == maps[1].values and maps[0].shape == (32, 32)
    assert maps[0].summary.minimum > 0 and maps[0].passes == 1


def test_compact_keeps_five_significant_digits_of_the_largest_value():
    assert compact(torch.tensor([[0.000123456789, 1.0e-9]])) == [[0.00012346, 0.0]]
    assert compact(torch.zeros(1, 2)) == [[0.0, 0.0]]


@pytest.mark.slow
def test_default_model_grad_cam_equals_captum_and_covers_the_cat(engine, default_image_model):
    read = read_image(ImageInput(sample="cat"))
    result = engine.image_saliency(SaliencyRequest(model=DEFAULT_IMAGE_MODEL, image=ImageInput(sample="cat"),
                                                   methods=["grad_cam"]))
    batch = prepare(default_image_model, read.image).batch
    reference = LayerGradCam(default_image_model.model, default_image_model.model.bn2).attribute(
        batch, target=result.target_index, relu_attributions=True)
    upsampled = LayerAttribution.interpolate(reference, (224, 224), interpolate_mode="bilinear")[0, 0]
    ours = as_tensor(result.maps[0])
    assert ours.shape == (224, 224) and result.target_index in {281, 282, 283, 284, 285}
    assert torch.allclose(ours, upsampled.detach().to(torch.float64), atol=1e-3 * float(ours.max()))
    black = normalize(torch.zeros(3, 224, 224), default_image_model.preprocessing.mean,
                      default_image_model.preprocessing.std)
    assert float(black.mean()) == pytest.approx(-127 / 128)
