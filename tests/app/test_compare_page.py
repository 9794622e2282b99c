"""The Side by side page under AppTest on the real default model: two temperatures on one prompt, both heatmaps,
each side's view of the other's answer, saving it and reopening it on the Saved page."""
from __future__ import annotations

from tests.app.pages import open_page

PROMPT = "Name a colour."


def compared(temperature_b: float = 0.5):
    at = open_page("compare_page.py")
    at.text_area(key="compare_prompt").set_value(PROMPT)
    at.number_input(key="compare_max_new_tokens").set_value(5)
    at.number_input(key="compare_B_temperature").set_value(temperature_b)
    at.checkbox(key="compare_B_template").set_value(False)
    next(b for b in at.button if b.label == "Compare").click().run()
    return at


def test_both_sides_and_their_cross_scores_are_drawn():
    at = compared()
    assert not at.exception and not at.error
    headings = [m.value.replace("\\", "") for m in at.markdown]
    assert any("A · smollm2-135m-instruct · T 1 · chat template on" in h for h in headings)
    assert any("B · smollm2-135m-instruct · T 0.5 · chat template off" in h for h in headings)
    assert sum("How sure is" in h for h in headings) == 2
    assert len(at.dataframe) == 2 and "difference" in at.dataframe[0].value.columns
    assert any("log p of this answer" in c.value for c in at.caption)


def test_an_empty_prompt_says_what_to_change():
    at = open_page("compare_page.py")
    at.number_input(key="compare_B_temperature").set_value(0.5)
    next(b for b in at.button if b.label == "Compare").click().run()
    assert not at.exception and not at.dataframe


def test_a_saved_comparison_reopens_on_the_saved_page():
    at = compared(0.7)
    next(w for w in at.text_input if w.label == "Title").set_value("Two temperatures")
    next(w for w in at.text_input if w.label == "Tags").set_value("side-by-side-apptest")
    next(b for b in at.button if b.label == "Save").click().run()
    assert any("Saved as" in s.value for s in at.success)
    at.switch_page("saved_page.py").run()
    at.text_input(key="saved_tag").set_value("side-by-side-apptest").run()
    assert not at.exception and list(at.dataframe[0].value["kind"]) == ["comparison"]
