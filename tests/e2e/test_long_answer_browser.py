"""A 2,000-token answer in a real browser: the Sequence page's Claims tab (ccp and luq on about 160 claims) shades
every claim and lists them all; the Attention & saliency page draws its views and the whole answer's saliency,
which the matrix shows by sentence (a token-level matrix of 2,000 x 2,000 cells would not fit a screen)."""
from __future__ import annotations

import pytest

from backend.claims.split import split_claims
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_attention_page_browser import PLOT, RESULT_TIMEOUT_MS, analyze_answer, explain_whole_answer
from tests.e2e.test_sequence_claims_attention_browser import (CCP, LUQ, RUN_TIMEOUT_MS, TAB_PANEL, TITLED_SPANS,
                                                              open_sequence_page, open_tab, poll, select_only,
                                                              small_run, tall_screenshot)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SUBJECTS = ["The lighthouse keeper", "The old sailor", "A young painter", "The river", "The northern town",
            "Her grandmother", "The small museum", "A travelling merchant", "The village baker", "The winter storm"]
DEEDS = ["climbed the hill at dawn", "opened a shop near the harbour", "painted the bridge in bright colours",
         "flooded the fields in spring", "kept a diary for forty years", "sold maps of distant islands",
         "baked bread for the whole street", "closed the roads for a week", "watched the ships pass by night",
         "collected shells from every beach"]
PROMPT = "Tell me a long story about a town by the sea."


def long_answer(sentences: int = 214) -> str:
    """About 2,000 tokens of the default model's tokenizer: `sentences` short sentences in a fixed order."""
    return " ".join(f"{SUBJECTS[(3 * n) % 10]} {DEEDS[(7 * n + n // 10) % 10]}." for n in range(sentences))


def test_the_claims_tab_shows_every_claim_of_a_2000_token_answer(page, app_url, default_tokenizer):
    answer = long_answer()
    assert len(default_tokenizer(answer, add_special_tokens=False)["input_ids"]) >= 2000
    claims = len(split_claims(answer))
    open_sequence_page(page, app_url)
    select_only(page, {CCP, LUQ})
    small_run(page, PROMPT, answer)
    open_tab(page, "Claims")
    spans = poll(lambda: page.locator(TAB_PANEL).evaluate(TITLED_SPANS), lambda s: len(s) == claims,
                 RUN_TIMEOUT_MS / 1000, "the shaded answer")
    assert [text for _, text in spans][:2] == [c.text for c in split_claims(answer)[:2]]
    tall_screenshot(page, "sequence-page-long-answer-claims.png")
    assert not page.locator("[data-testid='stException']").count()


def test_the_whole_answer_saliency_of_a_2000_token_answer_is_drawn_by_sentence(page, app_url):
    answer = long_answer()
    analyze_answer(page, app_url, PROMPT, answer)
    for key in ("attn_attention_matrix", "attn_head_grid"):
        page.locator(PLOT.format(key)).first.wait_for(timeout=RESULT_TIMEOUT_MS)
    explain_whole_answer(page)
    page.get_by_text("Shown by sentence", exact=False).first.wait_for(timeout=30_000)
    matrix = page.locator(PLOT.format("attn_saliency_matrix")).first
    matrix.scroll_into_view_if_needed()
    matrix.screenshot(path=str(ARTIFACTS / "attention-page-long-answer-saliency.png"))
    rows, columns = matrix.evaluate("plot => [plot.data[0].z.length, plot.data[0].x.length]")
    assert rows == len(split_claims(answer)) and columns <= rows + 2  # sentences (and the prompt's), not tokens
    assert not page.locator("[data-testid='stException']").count()
    assert not page.locator("[data-testid='stAlertContentError']").count()
