"""The Sequence page's Claims and Attention tabs in a real browser, driven as a user would: only the methods under
test picked in the pills, a small run (K = 3, a short answer given to score), then each tab read and its numbers
checked against the scores table and the analysis's own JSON download (the page's "Download this analysis (JSON)").

Claims (ccp, luq): every claim of the answer is shown shaded with its score in its title and in the claims table;
the answer's CCP is the product of its claims' and LUQ is 1 - their mean support; the split is shown in the
editable box, and an edited (merged) split re-scored is the split then shown, scored and downloaded; a claim that
is not in the answer is refused with a message naming it.
Attention (rauq, uqac): RAUQ's selected head and value per layer, the largest marked and equal to the score; the
recurrent confidence chart; UQAC's chain drawn on the answer's tokens and its table, the value the product of the
chain's probabilities."""
from __future__ import annotations

import json
import math
import re
import time
from pathlib import Path
from typing import Callable

import pytest

from tests.e2e.conftest import ARTIFACTS, choose_option, wait_until_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]
RUN_TIMEOUT_MS = 300_000  # a run on a loaded 2-core machine, the suite's other servers beside it
GROUPS = ("generation", "samples", "ask")
SAMPLES = 3
MAX_NEW_TOKENS = 12
PROMPT = "Tell me about Paris."
ANSWER = "Paris is the capital of France. It lies on the Seine. It has ten million towers."
CLAIMS = ["Paris is the capital of France.", "It lies on the Seine.", "It has ten million towers."]
MERGED = [CLAIMS[0], "It lies on the Seine. It has ten million towers."]
CLAIMS_BOX = "The answer's claims, one per line"
CCP, LUQ = "Claim-conditioned probability", "LUQ"
RAUQ, UQAC = "RAUQ", "UQAC attention chain"
UQAC_WEIGHT = "Attention from the chain (summed)"
SUM_PROMPT = "What is two plus three?"
SUM_ANSWER = "Two plus three makes five. So the answer is 5."
TAB_PANEL = "[role='tabpanel']:visible"
# the glide data grid draws on a canvas; its accessible table (the rows it draws) is in the DOM as the canvas's content
GRIDS = """(root) => [...root.querySelectorAll("table[role='grid']")].map(t => ({
    headers: [...t.querySelectorAll("thead th")].map(c => c.textContent.trim()),
    total: Number(t.getAttribute("aria-rowcount")) - 1,
    rows: [...t.querySelectorAll("tbody tr")].map(r => [...r.querySelectorAll("td")].map(c => c.textContent.trim()))
}))"""
TITLED_SPANS = """(root) => [...root.querySelectorAll("[data-testid='stMarkdownContainer'] span[title]")]
    .map(s => [s.getAttribute("title"), s.textContent])"""


def poll(read: Callable, done: Callable, timeout_s: float = 60, what: str = "the page", fail: bool = True):
    """read() until done(value) (a rerun may still be drawing); the last value, or (when `fail`) a failure naming
    what did not settle."""
    deadline = time.time() + timeout_s
    while True:
        value = read()
        if done(value) or (time.time() > deadline and not fail):
            return value
        if time.time() > deadline:
            pytest.fail(f"{what} did not settle in {timeout_s:.0f} s: {value!r}")
        time.sleep(0.5)


def settle(page, timeout_s: float = 120) -> None:
    """After a widget change: give the rerun time to start, then wait until the script has finished."""
    page.wait_for_timeout(400)
    wait_until_idle(page, timeout_s)


def open_sequence_page(page, app_url: str) -> None:
    page.goto(f"{app_url}/sequence", wait_until="domcontentloaded")
    page.get_by_role("button", name="Run the selected methods").wait_for(timeout=RUN_TIMEOUT_MS)
    page.get_by_text("Estimated total").wait_for(timeout=RUN_TIMEOUT_MS)  # the cost table: the first run is done
    settle(page)
    for group in GROUPS:  # the pills are drawn as the first run goes; wait for every row of them
        page.locator(f"[class*='st-key-seq_methods_{group}'] [role='toolbar'] button").first.wait_for(timeout=60_000)


def pressed_methods(page) -> set[str]:
    return {label.strip() for group in GROUPS for label in page.locator(
        f"[class*='st-key-seq_methods_{group}'] [role='toolbar'] button[aria-pressed='true']").all_inner_texts()}


def select_only(page, labels: set[str], attempts: int = 3) -> None:
    """Click the method pills until exactly `labels` are on, waiting for the app after each click (a click during
    a rerun can be lost: the pill is read again and clicked again)."""
    for _ in range(attempts):
        for group in GROUPS:
            bar = page.locator(f"[class*='st-key-seq_methods_{group}'] [role='toolbar']")
            for label in [text.strip() for text in bar.locator("button").all_inner_texts()]:
                pill = bar.get_by_role("button", name=label, exact=True)
                want = "true" if label in labels else "false"
                for _ in range(attempts):
                    if pill.get_attribute("aria-pressed") == want:
                        break
                    pill.click()
                    poll(lambda: pill.get_attribute("aria-pressed"), lambda v: v == want, 10, fail=False)
                    settle(page)
        if pressed_methods(page) == labels:
            return
    assert pressed_methods(page) == labels


def small_run(page, prompt: str, answer: str) -> None:
    """K = SAMPLES samples of at most MAX_NEW_TOKENS tokens; the prompt and the answer to score; Run; wait for the
    scores."""
    page.get_by_text("Model, sampling and meaning settings").click()
    samples = page.get_by_role("slider", name="Samples K")
    samples.press("Home")  # K = 2
    settle(page)
    for _ in range(SAMPLES - 2):
        samples.press("ArrowRight")
        settle(page)
    assert samples.input_value() == str(SAMPLES)
    tokens = page.get_by_role("spinbutton", name="Max new tokens")
    tokens.fill(str(MAX_NEW_TOKENS))
    tokens.press("Enter")
    settle(page)
    assert tokens.input_value() == str(MAX_NEW_TOKENS)
    page.get_by_role("textbox", name="Prompt").fill(prompt)
    page.get_by_role("textbox", name="Answer to score (optional)").fill(answer)
    page.get_by_role("button", name="Run the selected methods").click()
    page.locator("[class*='st-key-seq_scores_overview'] .js-plotly-plot").wait_for(timeout=RUN_TIMEOUT_MS)
    settle(page, RUN_TIMEOUT_MS / 1000)


def score_values(page) -> dict[str, str]:
    """The scores table (Scores tab) as {score label: value shown}."""
    table = page.locator("[class*='st-key-seq_scores_table'] table")
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    rows = [[c.strip() for c in row.locator("th, td").all_inner_texts()] for row in table.locator("tbody tr").all()]
    return {row[headers.index("Score")]: row[headers.index("Value")] for row in rows}


def downloaded_analysis(page) -> dict:
    """The analysis as the page's JSON download gives it."""
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="Download this analysis (JSON)").click()
    analysis = json.loads(Path(download.value.path()).read_text())
    settle(page)
    return analysis


def open_tab(page, name: str) -> None:
    tab = page.get_by_role("tab", name=name, exact=True)
    if tab.get_attribute("aria-selected") != "true":
        tab.click()
    poll(lambda: tab.get_attribute("aria-selected"), lambda v: v == "true", 30, f"the {name} tab")


def grid(page, header: str, rows: int) -> list[dict[str, str]]:
    """The rows of the data grid in the open tab that has the column `header`, as {column: cell text}, once it
    has drawn `rows` rows."""
    def read():
        found = [g for g in page.locator(TAB_PANEL).evaluate(GRIDS) if header in g["headers"]]
        return found[0] if found else None
    shown = poll(read, lambda g: g is not None and g["total"] == rows and len(g["rows"]) == rows, 60,
                 f"the grid with {header!r}")
    return [dict(zip(shown["headers"], row)) for row in shown["rows"]]


def titled_spans(page, count: int, title_start: str = "") -> list[tuple[str, str]]:
    """(title, text) of the shaded pieces of the answer in the open tab, once `count` are drawn (with titles
    starting with title_start)."""
    return poll(lambda: [tuple(s) for s in page.locator(TAB_PANEL).evaluate(TITLED_SPANS)],
                lambda s: len(s) == count and all(t.startswith(title_start) for t, _ in s), 60, "the shaded answer")


def rescore(page, lines: list[str]) -> None:
    """Type the split into the claims box, press "Re-score claims", and wait until the Claims tab shows it (the
    run takes a while; its tab is opened again if the rerun left another one open)."""
    page.get_by_role("textbox", name=CLAIMS_BOX).fill("\n".join(lines))
    page.get_by_role("button", name="Re-score claims").click()
    settle(page, RUN_TIMEOUT_MS / 1000)

    def shown():
        wait_until_idle(page, RUN_TIMEOUT_MS / 1000)
        open_tab(page, "Claims")
        return [text for _, text in page.locator(TAB_PANEL).evaluate(TITLED_SPANS)]
    poll(shown, lambda texts: texts == lines, RUN_TIMEOUT_MS / 1000, "the re-scored claims")


def tall_screenshot(page, name: str, height: int = 2200) -> None:
    """A screenshot with the window made tall enough for the whole tab (Streamlit scrolls inside its own main
    area, which a full-page screenshot does not unroll); the window's size is restored after."""
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": height})
    page.wait_for_timeout(1000)  # the charts redraw at the new size
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)
    page.set_viewport_size(size)


def close(shown: str, value: float) -> bool:
    """Whether a number shown ("0.6974", "5.82e-17") is the value to the significant digits shown."""
    digits = len(shown.lower().split("e")[0].lstrip("-").replace(".", "").lstrip("0")) or 1
    return math.isclose(float(shown), value, rel_tol=0.6 * 10 ** (1 - digits))


def assert_claims_shown(page, claims: list[dict], scores: dict[str, str], rule: str) -> None:
    """The Claims tab shows exactly these claims (from the JSON), by CCP then by LUQ support, in the grid with
    their token spans and CCPs, and the answer's CCP and LUQ in the scores table follow from them."""
    texts = [c["text"] for c in claims]
    ccps = [c["scores"]["ccp"] for c in claims]
    supports = [c["scores"]["luq_support"] for c in claims]
    open_tab(page, "Claims")
    choose_option(page, "Shade each claim by", "Claim", "Claim-conditioned probability")
    settle(page)
    assert titled_spans(page, len(claims), CCP) == [(f"{CCP}: {v:.3f}", t) for v, t in zip(ccps, texts)]
    caption = page.locator(TAB_PANEL).get_by_text("redder = more doubtful", exact=False)
    assert "(1 - CCP)" in caption.inner_text() and rule in caption.inner_text()
    rows = grid(page, "Claim", len(claims))
    assert [r["#"] for r in rows] == [str(n) for n in range(1, len(claims) + 1)]
    assert [r["Claim"] for r in rows] == texts
    assert list(rows[0])[2] == CCP  # the claim scores come right after the claim, in view without scrolling
    assert all(math.isclose(float(r[CCP]), v, rel_tol=1e-9) for r, v in zip(rows, ccps))
    assert close(scores[CCP], math.prod(ccps))                       # the answer's CCP: the product over claims
    choose_option(page, "Shade each claim by", "LUQ", "LUQ support by the samples")
    settle(page)
    label = "LUQ support by the samples"
    assert titled_spans(page, len(claims), label) == [(f"{label}: {v:.3f}", t) for v, t in zip(supports, texts)]
    assert "(1 - support)" in page.locator(TAB_PANEL).get_by_text("redder = more doubtful", exact=False).inner_text()
    assert close(scores[LUQ], 1 - sum(supports) / len(supports))     # LUQ: 1 - the claims' mean support
    assert all(0 <= c["supported_by"] <= SAMPLES for c in claims)


def run_only(page, app_url: str, methods: list[str], prompt: str, answer: str) -> tuple[list, dict, dict]:
    """Run only `methods` (labels, in table order) on a given answer; (the dialogs seen so far, the scores
    table, the page's JSON download), the table checked to list exactly those methods."""
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_sequence_page(page, app_url)
    select_only(page, set(methods))
    small_run(page, prompt, answer)
    scores = score_values(page)
    assert list(scores) == methods
    return dialogs, scores, downloaded_analysis(page)


def test_claims_tab_shows_each_claim_scored_and_an_edited_split_is_rescored(page, app_url):
    dialogs, scores, analysis = run_only(page, app_url, [CCP, LUQ], PROMPT, ANSWER)
    assert analysis["text"]["generated_text"] == ANSWER and len(analysis["samples"]) == SAMPLES
    assert [c["text"] for c in analysis["claims"]] == CLAIMS
    assert [s["name"] for s in analysis["scores"]] == ["ccp", "luq"]
    assert_claims_shown(page, analysis["claims"], scores, "The answer split into sentences")
    box = page.get_by_role("textbox", name=CLAIMS_BOX)
    assert box.input_value() == "\n".join(CLAIMS)                     # the split, one claim per line
    page.screenshot(path=str(ARTIFACTS / "sequence-page-claims.png"), full_page=True)

    rescore(page, MERGED)                                              # the second and third claims merged
    rescored = downloaded_analysis(page)
    assert [c["text"] for c in rescored["claims"]] == MERGED
    assert rescored["text"]["generated_text"] == ANSWER
    assert rescored["claims"][0]["scores"]["ccp"] == pytest.approx(analysis["claims"][0]["scores"]["ccp"])
    new_scores = score_values(page)
    assert list(new_scores) == [CCP, LUQ]
    assert_claims_shown(page, rescored["claims"], new_scores, "The request's claims")
    assert page.get_by_role("textbox", name=CLAIMS_BOX).input_value() == "\n".join(MERGED)
    page.screenshot(path=str(ARTIFACTS / "sequence-page-claims-merged.png"), full_page=True)
    assert not page.locator("[data-testid='stException']").count()
    assert not page.locator("[data-testid='stAlertContentError']").count()

    page.get_by_role("textbox", name=CLAIMS_BOX).fill("Paris is the capital of Spain.")  # not a piece of the answer
    page.get_by_role("button", name="Re-score claims").click()
    settle(page, RUN_TIMEOUT_MS / 1000)
    error = page.locator("[data-testid='stAlertContentError']")
    error.first.wait_for(timeout=RUN_TIMEOUT_MS)
    assert "Claim 1 ('Paris is the capital of Spain.') is not found in the answer" in error.first.inner_text()
    assert page.get_by_role("textbox", name="Prompt").input_value() == PROMPT  # the form is kept
    assert score_values(page) == new_scores  # the analysis it edited stays, with its claims box to correct
    assert page.get_by_role("textbox", name=CLAIMS_BOX).count() == 1
    assert not page.locator("[data-testid='stException']").count()
    assert not dialogs


def test_attention_tab_shows_rauq_heads_and_the_uqac_chain_as_computed(page, app_url):
    dialogs, scores, analysis = run_only(page, app_url, [RAUQ, UQAC], SUM_PROMPT, SUM_ANSWER)
    tokens = [t["text"] for t in analysis["text"]["tokens"]]
    assert "".join(tokens).startswith(SUM_ANSWER)
    found = {s["name"]: s for s in analysis["scores"]}
    rauq, uqac = found["rauq"], found["uqac"]
    assert close(scores[RAUQ], rauq["value"]) and close(scores[UQAC], uqac["value"])
    assert page.locator("[class*='st-key-seq_answer_heatmap'] .js-plotly-plot g.trace.bars g.point").count() == len(
        tokens)
    open_tab(page, "Attention")
    panel = page.locator(TAB_PANEL)

    # RAUQ: the value and its layer in words, one row per layer read (1-based), its head and value; the largest
    d = rauq["details"]
    layer, head = d["layer"] + 1, d["heads"][d["layers"].index(d["layer"])] + 1
    heading = panel.locator("p", has_text="RAUQ ").first.inner_text()
    value = re.match(r"RAUQ ([\d.]+):", heading)
    assert value and value.group(1) == f"{rauq['value']:.3f}" and close(value.group(1), rauq['value'])
    assert f"at layer {layer}." in heading and f"c_j = {d['alpha']:g} p_j" in heading
    rows = grid(page, "Selected head", len(d["layers"]))
    assert [int(r["Layer"]) for r in rows] == [n + 1 for n in d["layers"]]
    assert [int(r["Selected head"]) for r in rows] == [h + 1 for h in d["heads"]]
    per_layer = [float(r["1 - mean ln c"]) for r in rows]
    assert per_layer == pytest.approx(d["per_layer"], rel=1e-9)
    assert [r["RAUQ (the largest)"] for r in rows] == ["true" if n + 1 == layer else "false" for n in d["layers"]]
    assert max(per_layer) == pytest.approx(rauq["value"], rel=1e-9) == per_layer[d["layers"].index(d["layer"])]
    assert panel.get_by_text(f"at layer {layer} (head {head}), beside the token's probability", exact=False).count()
    chart = panel.locator("[data-testid='stVegaLiteChart']")
    chart.first.wait_for(timeout=60_000)
    assert chart.count() == 1 and len(d["confidence"]) == len(tokens)
    assert {"c_j", "p_j"} <= set(chart.first.inner_text().split())     # the legend: both lines drawn

    # UQAC: the value, the chain drawn on the answer's tokens, its table; the value is the chain's product
    d = uqac["details"]
    heading = panel.locator("p", has_text="UQAC ").first.inner_text()
    assert heading.startswith(f"UQAC {uqac['value']:.3g}: the product of the probabilities of the "
                              f"{len(d['chain'])} chain tokens (the final answer alone: "
                              f"{d['answer_probability']:.3g})")
    weight = dict(zip(d["chain"], d["weights"]))
    chain = sorted(set(d["chain"]) | set(d["answer_span"]))
    assert set(d["answer_span"]) <= set(d["chain"])
    expected = [(f"final answer (token {i})" if i in d["answer_span"] else f"chain token {i}: attention "
                 f"{weight[i]:.3f}", tokens[i]) for i in chain]
    assert titled_spans(page, len(chain)) == expected
    rows = grid(page, UQAC_WEIGHT, len(d["chain"]))
    assert [int(r["Token"]) for r in rows] == d["chain"]
    assert [r["Text"] for r in rows] == [tokens[i].strip() for i in d["chain"]]  # (the grid's text, trimmed)
    assert [float(r[UQAC_WEIGHT]) for r in rows] == pytest.approx(d["weights"], rel=1e-9)
    probs = [float(r["p"]) for r in rows]
    assert probs == pytest.approx(d["chain_probs"], rel=1e-9)
    assert math.prod(probs) == pytest.approx(uqac["value"], rel=1e-6)       # UQAC: the product over the chain
    span_probs = [p for i, p in zip(d["chain"], probs) if i in d["answer_span"]]
    assert math.prod(span_probs) == pytest.approx(d["answer_probability"], rel=1e-6)
    assert close(scores[UQAC], math.prod(probs))
    tall_screenshot(page, "sequence-page-attention.png")
    assert not page.locator("[data-testid='stException']").count()
    assert not page.locator("[data-testid='stAlertContentError']").count()
    assert not dialogs
