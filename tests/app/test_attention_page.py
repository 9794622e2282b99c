"""The Attention & saliency page under Streamlit's AppTest, on the real default model."""
from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from backend.schemas import TextRequest
from backend.schemas.text_saliency import TextSaliencyRequest
from tests.app.pages import open_page as open_app_page

pytestmark = pytest.mark.slow


def open_page(**state) -> AppTest:
    """The app on its Attention & saliency page, with `state` in the session first."""
    return open_app_page("attention_page.py", **state)


def analyze(at: AppTest, prompt: str, answer: str = "") -> AppTest:
    at.text_area(key="attn_prompt").set_value(prompt)
    at.text_area(key="attn_answer").set_value(answer)
    next(b for b in at.button if b.label == "Analyze").click().run()
    return at


FRANCE = ("What is the capital of France?",
          "Paris is the capital of France, a city on the Seine known for its museums, cafes and bridges.")


def map_view(at: AppTest) -> dict:
    """The data of the page's browser-side map switch (the client view with a composite)."""
    views = [json.loads(e.proto.json) for e in at.get("bidi_component")]
    return next(v for v in views if v.get("composite"))


def test_maps_switch_in_the_browser_and_the_page_follows():
    at = analyze(open_page(), *FRANCE)
    assert not at.exception and not at.error
    assert not [r for r in at.radio if r.key == "attn_aggregation"]           # no server-side Map widget
    view = map_view(at)
    assert len(view["states"]["map"]) == 30 * 9 + 30 + 2                      # every head, head mean, two more
    assert view["initial"] == {"aggregation": "head_mean", "layer": "30", "head": "1"}
    assert view["composite"]["drawn"] == "head_mean|30"
    at.session_state["attn_map"] = {"aggregation": "head", "layer": 4, "head": 2}   # as the state value sets it
    at.run()
    assert not at.exception and not at.error
    view = map_view(at)
    assert view["initial"] == {"aggregation": "head", "layer": "5", "head": "3"}
    assert view["composite"]["drawn"] == "head_mean|30"                        # the figures are not redrawn


def test_attention_views_and_saliency_of_a_scored_answer(monkeypatch):
    monkeypatch.setattr("app.attention_tab.CLIENT_MAP_VALUES", 0)             # the server-side controls
    at = analyze(open_page(), *FRANCE)
    assert not at.exception and not at.error
    assert any("Explaining" in m.value for m in at.markdown)
    assert at.radio(key="attn_aggregation").value == "head_mean"
    assert any("Where" in m.value and "looked" in m.value for m in at.markdown)
    at.radio(key="attn_aggregation").set_value("rollout").run()
    assert not at.exception and not at.error
    assert any("looked**" in m.value and "attention rollout" in m.value for m in at.markdown)
    at.selectbox(key="attn_method").set_value("input_x_gradient").run()
    at.radio(key="attn_target").set_value("entropy").run()
    at.radio(key="attn_scope").set_value("all")
    next(b for b in at.button if b.label == "Explain").click().run()
    assert not at.exception and not at.error
    explained = next(c.value for c in at.caption if "token(s) explained" in c.value)
    assert int(explained.split()[0]) > 16                                    # more than one chunk, merged
    assert any("What drives" in m.value for m in at.markdown)
    assert any("The whole answer" in m.value for m in at.markdown)


def test_the_text_pages_request_can_be_reused():
    request = TextRequest(prompt="Name a fruit.", answer="An apple.").model_dump_json()
    at = open_page(text_request=request)
    button = next(b for b in at.button if b.label == "Use the Text page's last prompt")
    button.click().run()
    assert not at.exception and not at.error
    assert at.text_area(key="attn_prompt").value == "Name a fruit."
    assert any("Explaining" in m.value for m in at.markdown)


def test_an_empty_prompt_says_what_to_do():
    at = analyze(open_page(), "  ")
    assert not at.exception
    assert "The prompt is empty" in at.error[0].value


def test_an_unconverged_integrated_gradients_run_warns_and_more_steps_doubles_them():
    at = analyze(open_page(), "Name a fruit.", "An apple.")
    at.selectbox(key="attn_method").set_value("integrated_gradients").run()
    at.number_input(key="attn_integrated_gradients_steps").set_value(4)
    next(b for b in at.button if b.label == "Explain").click().run()
    assert not at.exception and not at.error
    warning = next(w.value for w in at.warning if w.value.startswith("Not converged"))
    assert "at 4 steps" in warning and "of the target's change" in warning
    at.button(key="attn_more_steps").click().run()
    assert not at.exception and not at.error
    assert at.number_input(key="attn_integrated_gradients_steps").value == 8
    assert TextSaliencyRequest.model_validate_json(at.session_state["attn_saliency_request"]).parameters["steps"] == 8


def test_a_window_past_the_browsers_budget_says_which_window_makes_changes_instant():
    at = analyze(open_page(), "Tell me about a lighthouse keeper.",
                 " ".join(["The keeper climbed the stairs and lit the lamp."] * 8))
    assert not at.exception and not at.error
    assert at.radio(key="attn_aggregation").value == "head_mean"               # the server-side controls
    note = next(c.value for c in at.caption if "ask the server here" in c.value)
    assert "A Matrix window of 64 makes them instant." in note                 # 302 maps x 64 x 65 / 2 fits
    at.select_slider(key="attn_window_size").set_value(64).run()
    assert not at.exception and not at.error
    assert not [r for r in at.radio if r.key == "attn_aggregation"]           # now in the browser
    assert map_view(at)["composite"]["drawn"] == "head_mean|30"
