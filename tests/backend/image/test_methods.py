"""The image method tables on the one kernel: the wire view keeps every key it always had, parameters are checked
by the shared Parameter, and the family filter keeps the methods a network can run."""
from __future__ import annotations

import pytest

from backend.errors import UserInputError
from backend.image.methods import works_on
from backend.image.saliency import SALIENCY_METHODS
from backend.image.uncertainty import UNCERTAINTY_METHODS
from backend.registry import UnknownNameError

METHOD_KEYS = {"name", "label", "description", "paper", "parameters", "higher_is", "cost", "signed", "needs"}
PARAMETER_KEYS = {"name", "label", "kind", "default", "minimum", "maximum", "step", "help"}


def test_the_wire_view_keeps_every_key_of_the_old_shapes():
    for method in [*UNCERTAINTY_METHODS, *SALIENCY_METHODS]:
        shown = method.info().model_dump(mode="json")
        assert METHOD_KEYS <= set(shown)
        for parameter in shown["parameters"]:
            assert PARAMETER_KEYS <= set(parameter) and parameter["kind"] in ("int", "float")
            assert parameter["minimum"] <= parameter["default"] <= parameter["maximum"] and parameter["step"] > 0


def test_check_fills_defaults_as_floats_and_says_what_is_allowed():
    occlusion = SALIENCY_METHODS.get("occlusion")
    assert occlusion.check({"window": 16}) == {"window": 16.0, "stride": 28.0}
    assert all(isinstance(v, float) for v in occlusion.check({}).values())
    with pytest.raises(UserInputError, match="Occlusion: stride must be a whole number from 4 to 56, got 60"):
        occlusion.check({"stride": 60})
    with pytest.raises(UserInputError, match="SmoothGrad: noise must be a number from 0.05 to 0.5, got 0.9"):
        SALIENCY_METHODS.get("smoothgrad").check({"noise": 0.9})


def test_family_filter_and_unknown_names():
    assert "attention_rollout" not in SALIENCY_METHODS.available(keep=works_on("cnn"))
    assert not {"grad_cam", "layer_cam"} & set(SALIENCY_METHODS.available(keep=works_on("vit")))
    assert SALIENCY_METHODS.available(keep=works_on("other")) == ["integrated_gradients", "occlusion", "gradient",
                                                                  "smoothgrad"]
    with pytest.raises(UnknownNameError, match="unknown saliency method 'lime'; choose one of: grad_cam"):
        SALIENCY_METHODS.get("lime")
