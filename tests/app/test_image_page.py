"""The Image page under Streamlit's AppTest, on the real default image model (uploads are tested in tests/e2e)."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.pages import classify_sample, open_page

pytestmark = pytest.mark.slow


def classified(sample: str = "coffee") -> AppTest:
    """The app on its Image page with a sample photo classified."""
    return classify_sample(open_page("image_page.py"), sample)


def test_prediction_with_temperature_and_directions():
    at = classified("coffee")
    assert not at.exception and not at.error
    assert at.title[0].value == "Image: how sure, and why"
    metrics = {m.label: m.value for m in at.metric}
    assert float(metrics["Top probability"]) > 0.5
    entropy_at_1 = float(metrics["Entropy (nats)"])
    at.slider(key="image_temperature").set_value(3.0).run()
    metrics = {m.label: m.value for m in at.metric}
    assert float(metrics["Entropy (nats)"]) > entropy_at_1  # a hotter softmax is flatter
    assert any("higher = more uncertain" in c.value for c in at.caption)


def test_uncertainty_and_saliency_sections_run():
    at = classified("cat")
    at.slider(key="image_passes").set_value(2)
    at.button(key="FormSubmitter:image_uncertainty_form-Run MC dropout and test-time augmentation").click().run()
    assert not at.exception and not at.error
    table = at.table[0].value
    assert list(table.columns) == ["MC dropout", "Test-time augmentation"]
    assert "Mutual information (disagreement between passes)" in table.index
    predictive, expected, mutual = (table.loc[row].astype(float) for row in table.index[:3])
    assert ((predictive - expected - mutual).abs() < 2e-3).all()
    at.multiselect(key="image_saliency_methods").set_value(["grad_cam", "layer_cam"])
    at.radio(key="image_target").set_value("entropy")
    at.button(key="FormSubmitter:image_saliency_form-Explain").click().run()
    assert not at.exception and not at.error
    assert any("predictive entropy" in m.value for m in at.markdown)
    assert at.slider(key="image_opacity").value == 0.65


def test_the_temperature_applies_to_the_passes_and_the_entropy_map():
    at = classified("cat")
    at.slider(key="image_passes").set_value(2)
    at.button(key="FormSubmitter:image_uncertainty_form-Run MC dropout and test-time augmentation").click().run()
    at.multiselect(key="image_saliency_methods").set_value(["gradient"])
    at.radio(key="image_target").set_value("entropy")
    at.button(key="FormSubmitter:image_saliency_form-Explain").click().run()
    cold = at.table[0].value.loc["Predictive entropy (total)"].astype(float)
    at.slider(key="image_temperature").set_value(3.0).run()
    assert not at.exception and not at.error
    hot = at.table[0].value.loc["Predictive entropy (total)"].astype(float)
    assert (hot > cold).all()  # every pass's softmax flatter
    assert any("softmax at T = 3.00" in c.value for c in at.caption)
    assert any("predictive entropy" in m.value and "nats at T = 3.00" in m.value for m in at.markdown)


def test_a_class_map_states_the_probability_at_the_temperature():
    at = classified("cat")
    at.multiselect(key="image_saliency_methods").set_value(["gradient"])
    at.button(key="FormSubmitter:image_saliency_form-Explain").click().run()
    at.slider(key="image_temperature").set_value(2.0).run()
    assert not at.exception and not at.error
    explaining = next(m.value for m in at.markdown if m.value.startswith("Explaining"))
    assert "tiger cat" in explaining and "at T = 2.00" in explaining and "does not change" in explaining
    top = float(next(m.value for m in at.metric if m.label == "Top probability"))
    assert f"p = {top:.3f}" in explaining  # the same number as the top-class panel


def test_explaining_another_class():
    at = classified("cat")
    at.multiselect(key="image_saliency_methods").set_value(["grad_cam"])
    at.radio(key="image_target").set_value("class")
    at.selectbox(key="image_class_index").set_value(967)
    at.button(key="FormSubmitter:image_saliency_form-Explain").click().run()
    assert not at.exception and not at.error
    assert any("Explaining **espresso**" in m.value for m in at.markdown)


def test_no_method_chosen_says_what_to_do():
    at = classified("cat")
    at.multiselect(key="image_saliency_methods").set_value([])
    at.button(key="FormSubmitter:image_saliency_form-Explain").click().run()
    assert not at.exception
    assert at.error[0].value == "Pick at least one saliency method."


def test_upload_chosen_without_a_file_says_what_to_do():
    at = open_page("image_page.py")
    at.radio(key="image_source").set_value("Upload")
    at.button(key="FormSubmitter:image_form-Classify").click().run()
    assert not at.exception
    assert "Choose a file to upload" in at.error[0].value
