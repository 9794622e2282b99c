"""The Attention & saliency page in a real browser on a 300-token answer: every view renders, a head picked in
the grid and a token clicked in the answer update the page, and the whole-answer saliency matrix draws. On a short
answer: the first token explained is a content token, and rollout is normalised over the shown tokens."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import ARTIFACTS, choose_option, click_centre

pytestmark = [pytest.mark.browser, pytest.mark.slow]
RESULT_TIMEOUT_MS = 240_000
ANSWER = " ".join(["The lighthouse keeper climbed the stairs, lit the lamp, and watched the ships pass."] * 18)
PLOT = "[class*='st-key-{}'] .js-plotly-plot"


def wait_idle(page, timeout_ms: int = RESULT_TIMEOUT_MS) -> None:
    """Wait until Streamlit has finished running the script."""
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout_ms)


def analyze_answer(page, app_url: str, prompt: str, answer: str) -> None:
    """Open the page, score `answer` to `prompt`, and wait for the attention views."""
    page.goto(f"{app_url}/attention", wait_until="domcontentloaded")
    page.get_by_role("textbox", name="Prompt").wait_for(timeout=RESULT_TIMEOUT_MS)
    page.get_by_role("textbox", name="Prompt").fill(prompt)
    page.get_by_role("textbox", name="Answer to score (optional)").fill(answer)
    page.get_by_role("button", name="Analyze").click()
    page.locator(PLOT.format("attn_looked_token_weights")).first.wait_for(timeout=RESULT_TIMEOUT_MS)
    wait_idle(page)


def explain_whole_answer(page, method: str = "Attention weight") -> None:
    """On the Saliency tab, explain the whole answer with `method` and wait for the matrix."""
    page.get_by_role("tab", name="Saliency").click()
    page.get_by_label("Method").first.click()
    page.get_by_role("option", name=method).click()
    wait_idle(page)
    page.get_by_role("radiogroup", name="Tokens").get_by_text("Whole answer (matrix)").click()
    page.get_by_role("button", name="Explain").click()
    page.locator(PLOT.format("attn_saliency_matrix")).first.wait_for(timeout=RESULT_TIMEOUT_MS)
    wait_idle(page)


def test_long_answer_renders_and_stays_responsive(page, app_url):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    analyze_answer(page, app_url, "Tell me about a lighthouse keeper.", ANSWER)
    for key in ("attn_attention_matrix", "attn_head_grid"):
        page.locator(PLOT.format(key)).first.wait_for(timeout=RESULT_TIMEOUT_MS)
    answer_bars = page.locator("[class*='st-key-attn_answer_heatmap'] g.trace.bars g.point")
    assert answer_bars.count() >= 300

    grid = page.locator(PLOT.format("attn_head_grid")).first.locator("g.trace.scatter .point")
    click_centre(page, grid.nth(1))                                   # layer 1, head 2
    page.get_by_text("looked (layer 1, head 2)", exact=False).wait_for(timeout=RESULT_TIMEOUT_MS)
    assert page.get_by_role("radio", name="One head").is_checked()

    wait_idle(page)
    click_centre(page, answer_bars.nth(5))
    page.get_by_text("at position", exact=False).first.wait_for(timeout=RESULT_TIMEOUT_MS)
    wait_idle(page)

    explain_whole_answer(page)
    page.screenshot(path=str(ARTIFACTS / "attention-page-long-answer.png"), full_page=True)
    assert page.get_by_text("token(s) explained", exact=False).count()
    assert not page.locator("[data-testid='stException']").count()
    assert not page.locator("[data-testid='stAlertContentError']").count()
    assert not dialogs


def test_first_token_is_a_content_token_and_rollout_is_normalised_over_what_is_shown(page, app_url):
    # scored, the end-of-turn marker is the most uncertain token (entropy 4.21 nats vs. 4.05 for 'Apple')
    analyze_answer(page, app_url, "Name a fruit.", "Apple. <|im_end|>")
    explaining = page.locator("p", has_text="Explaining").first.inner_text()
    assert "'Apple'" in explaining and "im_end" not in explaining
    page.get_by_text("Rollout (all layers)").click()
    page.get_by_text("looked (attention rollout)", exact=False).wait_for(timeout=RESULT_TIMEOUT_MS)
    wait_idle(page)
    assert page.get_by_text("Normalised over what is shown", exact=False).count()
    assert "share of the shown attention" in page.locator(PLOT.format("attn_looked_token_weights")).first.inner_text()
    assert not page.locator("[data-testid='stException']").count()


def test_occlusion_of_the_prompt_only_draws_the_matrix_and_says_the_answer_columns_were_not_ablated(page, app_url):
    analyze_answer(page, app_url, "Name a fruit.", "Apples are sweet and crisp.")
    page.get_by_role("tab", name="Saliency").click()
    choose_option(page, "Method", "Occlusion", "Occlusion (feature ablation)")
    page.get_by_text("Ablate", exact=True).first.wait_for(timeout=RESULT_TIMEOUT_MS)
    wait_idle(page)
    page.get_by_role("radiogroup", name="Tokens").get_by_text("Whole answer (matrix)").click()
    page.get_by_role("button", name="Explain").click()
    page.locator(PLOT.format("attn_saliency_matrix")).first.wait_for(timeout=RESULT_TIMEOUT_MS)
    wait_idle(page)
    page.screenshot(path=str(ARTIFACTS / "attention-page-occlusion-prompt-only.png"), full_page=True)
    assert page.get_by_text("Occlusion ablated the prompt's tokens only", exact=False).count()
    assert not page.locator("[data-testid='stException']").count()
    assert not page.locator("[data-testid='stAlertContentError']").count()
