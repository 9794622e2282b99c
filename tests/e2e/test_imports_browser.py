"""The Imported logs page in a real browser, as a user would: upload a JSONL log (samples, a reference), read the
heatmap, the scores, the verdict and the audit, pick a token and another prompt; a malformed log's message names
its line and field; and a log of the embedded model's own numbers draws the Text page's heatmap."""
from __future__ import annotations

import json
import math

import pytest

from backend.schemas import TextRequest
from backend.schemas.text import DEFAULT_MAX_NEW_TOKENS
from tests.backend.imports.logs import chat_response, jsonl, response_from_analysis
from tests.e2e.conftest import ARTIFACTS, RESULT_TIMEOUT_MS, analyze, click_centre, wait_until_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]
LN = math.log
HEATMAP = "[class*='st-key-imports_text_answer_heatmap'] .js-plotly-plot"
BARS = f"{HEATMAP} g.trace.bars g.point"
PARIS = [("Par", LN(0.75), [("Par", LN(0.75)), ("Lon", LN(0.25))]),
         ("is", LN(0.5), [("is", LN(0.5)), ("is.", LN(0.3)), ("!", LN(0.2))])]
LONDON = [("Lon", LN(0.25), [("Par", LN(0.75)), ("Lon", LN(0.25))]),
          ("don", LN(0.9), [("don", LN(0.9)), ("g", LN(0.1))])]
# the probabilities a heatmap coloured by probability shows: its colours are positions on the one colour scale,
# 1 - p for this measure (components.measures.colour_position)
COLOURS = "(selector) => Array.from(document.querySelector(selector).data[0].marker.color, (c) => 1 - c)"
LABELS = "(selector) => Array.from(document.querySelector(selector).data[0].text)"


def upload(page, url: str, name: str, content: str) -> None:
    page.goto(f"{url}/imports", wait_until="domcontentloaded")
    page.get_by_text("Upload a log to see").wait_for(timeout=RESULT_TIMEOUT_MS)
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
        files=[{"name": name, "mimeType": "application/json", "buffer": content.encode()}])
    page.get_by_text(name).first.wait_for(timeout=30_000)


def test_upload_a_log_and_read_it(page, app_url):
    prompt = {"prompt": "Capital of France?", "reference": "Paris"}
    content = jsonl({**chat_response(PARIS, model="logged-model"), **prompt},
                    {**chat_response(LONDON, model="logged-model"), "prompt": "Capital of France?"},
                    {**chat_response(LONDON, model="logged-model"), "prompt": "Capital of England?"})
    upload(page, app_url, "answers.jsonl", content)
    page.locator(BARS).first.wait_for(timeout=RESULT_TIMEOUT_MS)
    assert page.locator(BARS).count() == 2
    assert page.evaluate(COLOURS, HEATMAP) == pytest.approx([0.75, 0.5])
    page.get_by_text("answers.jsonl: 3 responses, 2 prompts").wait_for()
    page.get_by_text("Graded against the reference Paris: right").wait_for()
    assert page.get_by_text("imported log: probabilities and log-probabilities are the logged ones").count()
    scores = page.locator("[class*='st-key-imports_scores_table'] table").inner_text()
    assert "Sequence probability" in scores and "Predictive entropy" in scores and "0.375" in scores
    assert "Audit of the graded answers" in page.locator("[data-testid='stMain']").inner_text()
    click_centre(page, page.locator(BARS).nth(1))
    wait_until_idle(page)
    page.get_by_text("is.").first.wait_for(timeout=30_000)  # the clicked token's alternatives
    page.get_by_text("Samples", exact=True).click()
    page.get_by_text("London").first.wait_for()
    page.set_viewport_size({"width": 1280, "height": 2600})
    page.screenshot(path=str(ARTIFACTS / "imports-page.png"), full_page=True)
    page.get_by_role("combobox", name="Prompt").click()
    page.get_by_role("option", name="line 3 · 1 answer · Capital of England?").click()
    wait_until_idle(page)
    page.wait_for_function(f"(s) => {{ const p = document.querySelector(s); return p && p.data && "
                           f"Math.abs(1 - p.data[0].marker.color[0] - 0.25) < 1e-9; }}", arg=HEATMAP, timeout=60_000)
    page.get_by_text("predictive entropy needs at least 2 answers").first.wait_for(timeout=30_000)
    assert not page.locator("[data-testid='stException']").count()


def test_a_malformed_log_names_its_line_and_field(page, app_url):
    broken = chat_response(PARIS)
    broken["choices"][0]["logprobs"]["content"][1]["top_logprobs"][0]["logprob"] = "likely"
    upload(page, app_url, "broken.jsonl", jsonl(chat_response(PARIS), broken))
    page.get_by_text("line 2: choices[0].logprobs.content[1].top_logprobs[0].logprob: must be a number").first.wait_for(
        timeout=RESULT_TIMEOUT_MS)
    page.screenshot(path=str(ARTIFACTS / "imports-page-malformed.png"), full_page=True)
    upload(page, app_url, "cut.json", json.dumps(chat_response(PARIS), indent=2)[:300])
    page.get_by_text("the file looks cut short").first.wait_for(timeout=RESULT_TIMEOUT_MS)
    assert not page.locator(BARS).count() and not page.locator("[data-testid='stException']").count()


def test_the_embedded_models_numbers_draw_the_text_pages_heatmap(page, app_url, default_lm):
    from backend.text.generation import analyze_text

    question = "Name the largest planet of the solar system."
    direct = analyze_text(default_lm, TextRequest(prompt=question, max_new_tokens=DEFAULT_MAX_NEW_TOKENS, top_k=20))
    analyze(page, app_url, question)
    text_heatmap = "[class*='st-key-text_answer_heatmap'] .js-plotly-plot"
    text_colours, text_labels = page.evaluate(COLOURS, text_heatmap), page.evaluate(LABELS, text_heatmap)
    assert text_colours == pytest.approx([t.prob for t in direct.tokens], abs=1e-6)  # the app saw the same answer
    log = json.dumps({**response_from_analysis(direct), "prompt": question})
    upload(page, app_url, "smollm2.json", log)
    page.locator(BARS).first.wait_for(timeout=RESULT_TIMEOUT_MS)
    assert page.evaluate(LABELS, HEATMAP) == text_labels
    assert page.evaluate(COLOURS, HEATMAP) == pytest.approx(text_colours, abs=1e-6)
    page.screenshot(path=str(ARTIFACTS / "imports-page-same-as-text.png"), full_page=True)
