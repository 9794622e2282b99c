"""Saliency targets by hand, and the method registry's metadata, guard and parameter checks."""
from __future__ import annotations

import math

import pytest
import torch

from backend.errors import UserInputError
from backend.parameters import Parameter
from backend.registry import Registry, UnknownNameError
from backend.text.saliency_methods import METHODS
from backend.text.saliency_targets import NORMALISATIONS, TARGETS

LOGPROBS = torch.log(torch.tensor([[[0.5, 0.25, 0.25, 0.0], [0.25, 0.25, 0.25, 0.25]]]))  # (B=1, N=2, V=4)
CHOSEN, ALTERNATIVE = torch.tensor([0, 3]), torch.tensor([1, 2])


def test_targets_by_hand():
    assert TARGETS.get("logprob").value(LOGPROBS, CHOSEN, ALTERNATIVE)[0].tolist() == pytest.approx(
        [math.log(0.5), math.log(0.25)])
    assert TARGETS.get("alternative").value(LOGPROBS, CHOSEN, ALTERNATIVE)[0].tolist() == pytest.approx(
        [math.log(0.25), math.log(0.25)])
    assert TARGETS.get("contrast").value(LOGPROBS, CHOSEN, ALTERNATIVE)[0].tolist() == pytest.approx([math.log(2), 0.0])
    # 0.5, 0.25, 0.25, 0: H = 1.5 ln 2; uniform over 4: ln 4.
    assert TARGETS.get("entropy").value(LOGPROBS.nan_to_num(neginf=-1e9), CHOSEN, ALTERNATIVE)[0].tolist() == \
        pytest.approx([1.5 * math.log(2), math.log(4)])


def test_every_target_says_which_way_is_good():
    assert {t.higher_is for t in TARGETS} <= {"confident", "uncertain"}
    assert TARGETS.get("entropy").higher_is == "uncertain"


def test_every_method_carries_its_metadata():
    assert METHODS.available() == ["gradient_norm", "input_x_gradient", "integrated_gradients", "occlusion",
                                   "attention"]
    for name in METHODS.available():
        method = METHODS.get(name)
        assert method.label and method.description and method.paper and method.cost
        for parameter in method.parameters:
            assert parameter.help and (parameter.choices or parameter.minimum < parameter.maximum)
    assert METHODS.get("integrated_gradients").resolve({}) == {"steps": 64, "baseline": "content_space"}


def test_registry_refuses_to_overwrite_and_names_what_exists():
    registry = Registry("saliency method")
    method = METHODS.get("gradient_norm")
    registry.register(method)
    with pytest.raises(ValueError, match="already registered"):
        registry.register(method)
    registry.register(method, overwrite=True)
    with pytest.raises(UnknownNameError, match="unknown saliency method 'lime'; choose one of: gradient_norm"):
        registry.get("lime")


def test_unknown_targets_and_normalisations_name_the_choices():
    with pytest.raises(UnknownNameError, match="unknown saliency target 'loss'; choose one of: logprob, "
                                               "alternative, contrast, entropy"):
        TARGETS.get("loss")
    with pytest.raises(UnknownNameError, match="choose one of: max_abs, l1, none"):
        NORMALISATIONS.get("softmax")


@pytest.mark.parametrize("given, message", [
    ({"steps": 3}, "from 4 to 256"), ({"steps": 2.5}, "whole number"), ({"steps": "8"}, "whole number"),
    ({"steps": True}, "whole number"), ({"baseline": "noise"}, "one of content_space"),
    ({"window": 3}, "has no parameter window")])
def test_bad_parameters_say_what_is_allowed(given, message):
    with pytest.raises(UserInputError, match=message):
        METHODS.get("integrated_gradients").resolve(given)


def test_parameter_check_accepts_whole_floats():
    assert Parameter(name="steps", label="Steps", help="h", kind="int", default=8, minimum=1, maximum=9
                     ).check(4.0) == 4


def test_the_catalog_keeps_every_key_of_the_old_shapes():
    method_keys = {"name", "label", "description", "paper", "signed", "uses_target", "higher_is", "cost",
                   "cost_grows_with_tokens", "parameters"}
    parameter_keys = {"name", "label", "kind", "default", "help", "minimum", "maximum", "choices"}
    for method in METHODS:
        shown = method.info().model_dump(mode="json")
        assert method_keys <= set(shown)
        assert all(parameter_keys <= set(p) for p in shown["parameters"])
    assert {"name", "label", "description", "unit", "higher_is", "needs_alternative"} <= \
        set(TARGETS.get("entropy").info().model_dump())
