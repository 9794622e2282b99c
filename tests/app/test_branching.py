"""Branching on the Text page under AppTest, on the real default model: "Continue from here" on an alternative
makes a branch whose forced token has the probability the parent gave that alternative; the Branches list shows
both answers, switching shows the other, the tree saves as one "branches" item that the Saved page reopens."""
from __future__ import annotations

import uuid

import pytest
from streamlit.testing.v1 import AppTest

from app.branching import PENDING, TREE
from backend.schemas.branches import BranchTree
from backend.store.repository import Store
from tests.app.pages import open_page
from tests.app.test_saved_kinds import assert_drawn, reopen

pytestmark = pytest.mark.slow
PROMPT = "What is the capital of France?"
STEP = 4


def branched() -> tuple[AppTest, BranchTree]:
    """The Text page after analysing PROMPT and continuing from answer token STEP's first other alternative, as
    the token detail's "Continue from here" button asks (app.branching.ask_branch; the button itself is drawn in
    the browser, tests/e2e/test_branching_browser.py presses it)."""
    at = open_page("text_page.py")
    at.text_area(key="text_prompt").set_value(PROMPT)
    at.number_input(key="text_max_new_tokens").set_value(8)
    at.button[0].click().run()
    token = at.session_state[TREE].nodes[0].analysis.tokens[STEP]
    alternative = next(a for a in token.top_k if a.id != token.id)
    at.session_state[PENDING] = (0, STEP, alternative.model_dump())  # what ask_branch(0, STEP, alternative) keeps
    at.run()
    assert not at.exception and not at.error
    return at, at.session_state[TREE]


@pytest.fixture(scope="module")
def page() -> tuple[AppTest, BranchTree]:
    return branched()


def test_continue_from_here_makes_a_branch_with_the_forced_alternative(page):
    at, tree = page
    root, branch = tree.nodes
    alternative = next(a for a in root.analysis.tokens[STEP].top_k if a.id != root.analysis.tokens[STEP].id)
    forced = branch.analysis.tokens[STEP]
    assert (forced.id, forced.forced) == (alternative.id, True)
    assert forced.prob == pytest.approx(alternative.prob, abs=1e-5)
    assert branch.fork.prob == alternative.prob and branch.parent == 0
    assert [t.id for t in branch.analysis.tokens[:STEP]] == [t.id for t in root.analysis.tokens[:STEP]]
    radio = at.radio(key="text_branch")
    assert radio.value == 1 and len(radio.options) == 2
    assert "Branch 1 · at token 5:" in radio.options[1]
    assert any(f"the first {STEP + 1} forced" in c.value for c in at.caption)  # the analysis shown is the branch
    assert at.session_state["text_selected"] == STEP  # drawn with its forced token picked


def test_switching_back_shows_the_first_answer(page):
    at, tree = page
    at.radio(key="text_branch").set_value(0).run()
    assert not at.exception and at.radio(key="text_branch").value == 0
    assert not any("forced" in c.value for c in at.caption)  # the first answer: every token the model's own
    at.radio(key="text_branch").set_value(1).run()
    assert any(f"the first {STEP + 1} forced" in c.value for c in at.caption)


def test_the_tree_saves_as_one_item_the_saved_page_reopens(page):
    at, tree = page
    title = f"branches {uuid.uuid4()}"
    next(w for w in at.text_input if w.label == "Title").set_value(title)
    next(b for b in at.button if b.label == "Save").click().run()
    assert not at.exception and any("Saved as" in s.value for s in at.success)
    found = [s for s in Store().list(kind="branches") if s.title == title]
    assert len(found) == 1
    item = Store().get(found[0].id)
    assert BranchTree.model_validate(item.payload) == tree
    reopened = reopen(item)
    assert_drawn(reopened)
    assert len(reopened.radio(key="saved_view_branch").options) == 2


def test_the_shown_branch_opens_on_the_attention_and_sequence_pages(page):
    at, tree = page
    branch = tree.nodes[1]
    assert any(f"Branch 1: its first {STEP + 1} tokens are forced" in c.value for c in at.caption)
    next(b for b in at.button if b.key == "text_open_attention").click().run()
    assert not at.exception
    assert at.text_area(key="attn_answer").value == branch.analysis.generated_text
    assert at.text_area(key="attn_prompt").value == PROMPT
    at.switch_page("text_page.py").run()
    next(b for b in at.button if b.key == "text_open_sequence").click().run()
    assert not at.exception
    assert at.text_area(key="seq_answer").value == branch.analysis.generated_text


def test_the_presenter_view_presents_the_branch_shown(page):
    at, tree = page
    at.switch_page("text_page.py").run()
    at.radio(key="text_branch").set_value(1).run()
    at.toggle(key="text_present").set_value(True).run()
    assert not at.exception
    presented = [chart.proto.spec for chart in at.get("plotly_chart")]
    at.toggle(key="text_present").set_value(False).run()
    at.radio(key="text_branch").set_value(0).run()
    at.toggle(key="text_present").set_value(True).run()
    assert presented and presented != [chart.proto.spec for chart in at.get("plotly_chart")]
    at.toggle(key="text_present").set_value(False).run()
    at.radio(key="text_branch").set_value(1).run()
    at.toggle(key="text_present").set_value(False).run()
    assert at.radio(key="text_branch").value == 1
