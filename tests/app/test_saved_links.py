"""Links to saved analyses (`saved?id=...`, `&view=present`), importing an export, and the Text page's presenter
view, under AppTest on the real default model."""
from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

from tests.app.pages import MAIN, TIMEOUT_S
from tests.app.test_pages import open_text_page, submit

PROMPT = "What is the capital of France?"
UNKNOWN = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"


def saved_link(at: AppTest) -> str:
    """The saved item's link, as the save form shows it under "Saved as"."""
    return next(c.value for c in at.code if "saved?id=" in c.value and "view=" not in c.value)


def opened_at(link: str) -> AppTest:
    """The app opened at a link's address: the Saved page with the link's query parameters."""
    at = AppTest.from_file(MAIN, default_timeout=TIMEOUT_S)
    at.run()
    at.switch_page("saved_page.py")
    for name, value in re.findall(r"[?&](\w+)=([^&]+)", link):
        at.query_params[name] = value
    return at.run()


def test_the_saved_link_reopens_the_analysis_and_its_presenter_view():
    at = submit(open_text_page(), PROMPT, text_max_new_tokens=6)
    next(w for w in at.text_input if w.label == "Title").set_value("Linked answer")
    next(b for b in at.button if b.label == "Save").click().run()
    link = saved_link(at)
    assert any("view=present" in c.value for c in at.code)
    reopened = opened_at(link)
    assert not reopened.exception
    assert reopened.subheader[0].value == "Linked answer" and "Sequence summaries" in [s.value for s in reopened.subheader]
    presented = opened_at(link + "&view=present")
    assert not presented.exception
    assert presented.header[0].value.replace("\\", "") == PROMPT
    assert "Sequence summaries" not in [s.value for s in presented.subheader]


def test_an_unknown_id_says_what_to_do_and_offers_the_import():
    at = opened_at(f"saved?id={UNKNOWN}")
    assert not at.exception
    assert "No saved analysis has the id" in at.warning[0].value
    assert any(e.label == "Import exported analyses (JSON)" for e in at.expander)


def test_the_presenter_toggle_shows_the_prompt_heatmap_and_curve_only():
    at = submit(open_text_page(), PROMPT, text_max_new_tokens=6)
    at.toggle(key="text_present").set_value(True).run()
    assert not at.exception
    assert at.header[0].value.replace("\\", "") == PROMPT and at.query_params["view"] == "present"
    assert not at.title and "Sequence summaries" not in [s.value for s in at.subheader]
    at.toggle(key="text_present").set_value(False).run()
    assert "view" not in at.query_params and "Sequence summaries" in [s.value for s in at.subheader]
