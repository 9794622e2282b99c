"""Parameter controls drawn from ParameterInfo: labels with the range, whole numbers for int parameters, keys by
method and parameter, values as the parameter's type."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

from backend.schemas.common import ParameterInfo
from components.parameter_controls import choice_label, number_label, numbers

STEPS = ParameterInfo(name="steps", label="Steps", kind="int", default=64, help="points on the path", minimum=4.0,
                      maximum=256.0, step=None)
NOISE = ParameterInfo(name="noise", label="Noise level", kind="float", default=0.15, help="sigma", minimum=0.05,
                      maximum=0.5, step=0.05)
BASELINE = ParameterInfo(name="baseline", label="Baseline", kind="choice", default="pad", help="the reference input",
                         choices={"zero": "all-zero embeddings", "pad": "the padding token's embedding"})


def test_numbers_are_ints_for_an_int_parameter_and_floats_otherwise():
    assert numbers(STEPS) == (4, 256, 64, 1)
    assert all(type(v) is int for v in numbers(STEPS))
    assert numbers(NOISE) == (0.05, 0.5, 0.15, 0.05)
    assert numbers(NOISE.model_copy(update={"step": None}))[3] is None


def test_labels_say_the_range_and_choices_what_they_mean():
    assert number_label("Steps", 4, 256) == "Steps (4–256)"
    assert number_label("SAR temperature t", 1e-6, 1.0) == "SAR temperature t (1e-06–1)"
    assert choice_label("the padding token's embedding") == "The padding token's embedding"


def one_method_page(parameters):  # no annotations: AppTest runs the source without this module's imports
    import streamlit as st

    from components.parameter_controls import render_parameter_controls

    st.session_state["values"] = render_parameter_controls(parameters, key="attn_ig")


def test_one_method_controls_are_keyed_by_parameter_and_typed():
    at = AppTest.from_function(one_method_page, args=([STEPS, BASELINE],)).run()
    assert not at.exception
    steps = at.number_input(key="attn_ig_steps")
    assert (steps.label, steps.value, steps.min, steps.max, steps.step) == ("Steps (4–256)", 64, 4, 256, 1)
    baseline = at.selectbox(key="attn_ig_baseline")
    assert (baseline.label, baseline.value, baseline.options) == ("Baseline", "pad", ["All-zero embeddings",
                                                                                    "The padding token's embedding"])
    assert at.session_state["values"] == {"steps": 64, "baseline": "pad"}
    steps.set_value(128).run()
    assert at.session_state["values"] == {"steps": 128, "baseline": "pad"}
    assert type(at.session_state["values"]["steps"]) is int


def several_methods_page(methods):
    import streamlit as st

    from components.parameter_controls import parameter_control, render_method_parameters

    st.session_state["values"] = render_method_parameters(methods, key="image_param", per_row=2)
    st.session_state["passes"] = parameter_control(methods[0].parameters[0], key="image_passes", slider=True)


def test_several_methods_share_one_grid_with_the_method_in_each_label():
    from backend.schemas.common import MethodInfoBase

    methods = [MethodInfoBase(name="integrated_gradients", label="Integrated gradients", description="", paper="",
                              cost="", parameters=[STEPS]),
               MethodInfoBase(name="gradient", label="Vanilla gradient", description="", paper="", cost=""),
               MethodInfoBase(name="smoothgrad", label="SmoothGrad", description="", paper="", cost="",
                              parameters=[NOISE])]
    at = AppTest.from_function(several_methods_page, args=(methods,)).run()
    assert not at.exception
    assert at.number_input(key="image_param_integrated_gradients_steps").label == \
        "Integrated gradients: Steps (4–256)"
    noise = at.number_input(key="image_param_smoothgrad_noise")
    assert (noise.label, noise.value, noise.step) == ("SmoothGrad: Noise level (0.05–0.5)", 0.15, 0.05)
    assert at.session_state["values"] == {"integrated_gradients": {"steps": 64}, "smoothgrad": {"noise": 0.15}}
    passes = at.slider(key="image_passes")
    assert (passes.label, passes.value, passes.min, passes.max) == ("Steps", 64, 4, 256)
