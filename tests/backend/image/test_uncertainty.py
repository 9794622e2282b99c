"""MC dropout and test-time augmentation: statistics against hand-computed values on tiny models, the model's
state restored, batching equivalent to separate passes, and the real default model end to end."""
from __future__ import annotations

import math

import pytest
import torch
from PIL import Image

from backend.analyses.augmentations import draw_augmentations
from backend.errors import UserInputError
from backend.image.input import ReadImage
from backend.image.prediction import prepare
from backend.image.uncertainty import (UNCERTAINTY_METHODS, analyze_uncertainty, mc_dropout_mode, mc_dropout_passes,
                                       tta_passes)
from backend.schemas import DEFAULT_IMAGE_MODEL
from backend.schemas.image import ImageInfo, ImageInput, UncertaintyRequest
from tests.backend.tiny_image_models import CoinDropoutModel, HalvesModel, tiny_cnn, wrap

KEPT = (0.75, 0.25)
DROPPED = (0.5, 0.5)


def binary_entropy(p: float) -> float:
    return -(p * math.log(p) + (1 - p) * math.log(1 - p))


def grey_image(size: int = 8) -> ReadImage:
    image = Image.new("RGB", (size, size), (128, 128, 128))
    return ReadImage(image=image, info=ImageInfo(width=size, height=size, format="PNG", mode="RGB", name="grey"))


def halves_image(size: int = 8) -> ReadImage:
    """Left half at 0.5 grey (pixel 128 of 255 ~ 0.502), right half black."""
    image = Image.new("RGB", (size, size), (0, 0, 0))
    image.paste((128, 128, 128), (0, 0, size // 2, size))
    return ReadImage(image=image, info=ImageInfo(width=size, height=size, format="PNG", mode="RGB", name="halves"))


def halves_probability(augmentation, scale: float = 4.0) -> float:
    """p(class 0) of HalvesModel on an augmented halves_image, by hand. After brightness b the halves are
    (l b, 0) with l = 128 / 255; contrast c about their mean g = l b / 2 gives (g (1 + c), g (1 - c)), the second
    clipped at 0; a flip swaps the halves. logit 0 = scale x (left - right), logit 1 = 0."""
    grey = (128 / 255) * augmentation.brightness / 2
    difference = grey * (1 + augmentation.contrast) - max(0.0, grey * (1 - augmentation.contrast))
    return 1 / (1 + math.exp(-scale * difference * (-1 if augmentation.flip else 1)))


def request(method: str, passes: int, seed: int = 0) -> UncertaintyRequest:
    return UncertaintyRequest(model="tiny", image=ImageInput(sample="cat"), method=method, passes=passes, seed=seed,
                              top_k=2)


def test_mc_dropout_statistics_by_hand():
    lm = wrap(CoinDropoutModel(), size=8, classes=2, family="other", dropout_rate=0.5)
    result = analyze_uncertainty(lm, request("mc_dropout", 40, seed=3), grey_image())
    class0 = next(c for c in result.classes if c.index == 0)
    assert set(round(p, 6) for p in class0.per_pass) <= {KEPT[0], DROPPED[0]}  # float32 model
    kept = sum(round(p, 6) == KEPT[0] for p in class0.per_pass)
    assert 0 < kept < 40  # both masks happen in 40 draws
    share = kept / 40
    mean0 = share * KEPT[0] + (1 - share) * DROPPED[0]
    expected_entropy = share * binary_entropy(KEPT[0]) + (1 - share) * math.log(2)
    assert class0.mean == pytest.approx(mean0)
    assert class0.std == pytest.approx(0.25 * math.sqrt(share * (1 - share)))
    assert result.predictive_entropy == pytest.approx(binary_entropy(mean0))
    assert result.expected_entropy == pytest.approx(expected_entropy)
    assert result.mutual_information == pytest.approx(binary_entropy(mean0) - expected_entropy)
    assert result.agreement == 1.0  # class 0 wins or ties (to the lower index) in every pass
    assert result.mean_top_k[0].index == 0 and result.passes == 40 and len(result.pass_labels) == 40


def test_the_temperature_divides_every_passs_logits():
    lm = wrap(CoinDropoutModel(), size=8, classes=2, family="other", dropout_rate=0.5)
    hot = analyze_uncertainty(lm, request("mc_dropout", 40, seed=3).model_copy(update={"temperature": 2.0}),
                              grey_image())
    kept_at_2 = math.sqrt(3) / (math.sqrt(3) + 1)  # logit gap ln 3 halved: p = 1 / (1 + 3 ** -0.5)
    class0 = next(c for c in hot.classes if c.index == 0)
    assert set(round(p, 6) for p in class0.per_pass) <= {round(kept_at_2, 6), DROPPED[0]}
    cold = analyze_uncertainty(lm, request("mc_dropout", 40, seed=3), grey_image())
    assert hot.temperature == 2.0 and cold.temperature == 1.0
    assert hot.predictive_entropy > cold.predictive_entropy  # same masks, flatter softmax


def test_mc_dropout_is_seeded_and_restores_eval_mode():
    lm = wrap(CoinDropoutModel(), size=8, classes=2, family="other", dropout_rate=0.5)
    prepared = prepare(lm, grey_image().image)
    first = mc_dropout_passes(lm, prepared, 16, seed=7)
    assert torch.equal(first.probs, mc_dropout_passes(lm, prepared, 16, seed=7).probs)
    assert not lm.model.training


def test_mc_dropout_mode_switches_only_dropout_and_survives_errors():
    lm = tiny_cnn()
    model = lm.model
    with pytest.raises(RuntimeError):
        with mc_dropout_mode(model):
            assert model.training and not model.norm.training and not model.conv.training
            raise RuntimeError("boom")
    assert not any(module.training for module in model.modules())


def test_batched_passes_follow_the_same_distribution_as_separate_passes():
    lm = wrap(CoinDropoutModel(), size=8, classes=2, family="other", dropout_rate=0.5)
    prepared = prepare(lm, grey_image().image)
    batched = mc_dropout_passes(lm, prepared, 64, seed=1, max_batch=64).probs[:, 0]
    separate = mc_dropout_passes(lm, prepared, 64, seed=1, max_batch=1).probs[:, 0]
    for probs in (batched, separate):
        assert set(probs.round(decimals=6).tolist()) == {KEPT[0], DROPPED[0]}
        assert 16 <= int((probs.round(decimals=6) == KEPT[0]).sum()) <= 48  # Binomial(64, 1/2), far from the tails


def test_tiny_cnn_passes_differ_with_dropout_and_agree_without():
    lm = tiny_cnn()
    prepared = prepare(lm, halves_image(16).image)
    probs = mc_dropout_passes(lm, prepared, 8, seed=0).probs
    assert probs.std(dim=0).max() > 1e-3
    lm.model.drop_rate = 0.0
    assert mc_dropout_passes(lm, prepared, 8, seed=0).probs.std(dim=0).max() < 1e-12


def test_tta_passes_by_hand():
    lm = wrap(HalvesModel(scale=4.0), size=8, classes=2, family="other", crop_fraction=1.0)
    read = halves_image(8)
    result = tta_passes(lm, prepare(lm, read.image), 12, seed=5)
    augmentations = draw_augmentations(12, 8, 8, 8, torch.Generator().manual_seed(5))
    for probs, augmentation, label in zip(result.probs, augmentations, result.labels):
        assert float(probs[0]) == pytest.approx(halves_probability(augmentation), abs=1e-6)
        assert label == augmentation.describe()
    assert {a.flip for a in augmentations} == {True, False}


def test_tta_statistics_match_the_hand_computed_passes():
    lm = wrap(HalvesModel(scale=4.0), size=8, classes=2, family="other", crop_fraction=1.0)
    result = analyze_uncertainty(lm, request("tta", 10, seed=2), halves_image(8))
    augmentations = draw_augmentations(10, 8, 8, 8, torch.Generator().manual_seed(2))
    class0 = [halves_probability(a) for a in augmentations]
    mean0 = sum(class0) / 10
    expected_entropy = sum(binary_entropy(p) for p in class0) / 10
    assert result.predictive_entropy == pytest.approx(binary_entropy(mean0), abs=1e-5)
    assert result.expected_entropy == pytest.approx(expected_entropy, abs=1e-5)
    assert result.mutual_information == pytest.approx(binary_entropy(mean0) - expected_entropy, abs=1e-5)
    assert next(c for c in result.classes if c.index == 0).mean == pytest.approx(mean0, abs=1e-5)


def test_unknown_method_names_the_registered_ones():
    lm = tiny_cnn()
    with pytest.raises(UserInputError, match="unknown uncertainty method 'bootstrap'; choose one of: mc_dropout, tta"):
        analyze_uncertainty(lm, request("bootstrap", 4), grey_image(16))


def test_registry_metadata_and_overwrite_guard():
    assert UNCERTAINTY_METHODS.available() == ["mc_dropout", "tta"]
    info = UNCERTAINTY_METHODS.get("mc_dropout").info()
    assert info.higher_is == "uncertain" and "Gal" in info.paper and info.parameters[0].name == "passes"
    with pytest.raises(ValueError, match="already registered"):
        UNCERTAINTY_METHODS.register(UNCERTAINTY_METHODS.get("tta"))


@pytest.mark.slow
@pytest.mark.parametrize("method", ["mc_dropout", "tta"])
def test_default_model_on_the_cat(engine, default_image_model, method):
    result = engine.image_uncertainty(UncertaintyRequest(model=DEFAULT_IMAGE_MODEL, image=ImageInput(sample="cat"),
                                                         method=method, passes=6, seed=0))
    assert result.mean_top_k[0].index in {281, 282, 283, 284, 285}
    assert 0 <= result.mutual_information <= result.predictive_entropy <= result.max_entropy
    assert result.predictive_entropy == pytest.approx(result.expected_entropy + result.mutual_information)
    assert all(len(c.per_pass) == 6 for c in result.classes)
    assert not default_image_model.model.training
