"""Front-end latency (issue 20): the time from a widget change to the redrawn view in headless Chromium.

Starts `streamlit run app/main.py` on the embedded default models, drives it with Playwright and Debian's Chromium
(the way tests/e2e does), runs one analysis per page (Text: a generated answer; Attention: a scored answer;
Calibration: a 120-item digits audit), then repeats each interaction --repeats times and reports p50 and p95:

  colour-by switch      Text page, the "Colour by" radio, cycling through the measures -> the answer heatmap
  token click           Text page, a click on the next token of the heatmap -> its alternatives and the heatmap
  layer/head change     Attention page, a click on the next head of the head grid -> matrix, grid, where it looked
                        (in the browser)
  reliability bar click Calibration page, the last two equal-width bins in turn -> the chart and the bin's items
  temperature slider    Calibration page, Recalibration tab, "Try a temperature" one step right (keyboard)
                        -> the live reliability figure
  text temperature      Text page: Temperature is a form field, so a new value only takes effect on Analyze, which
                        generates again (a model call); timed from the Analyze click, with --model-repeats changes

See frontend_timing.MEASURED for exactly what is timed. The goal: p95 <= 150 ms for every view that needs no model
call. Usage (app venv, which has playwright): .venv/bin/python bench/bench_frontend.py [--quick] [--threads 1]
"""
from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
from datetime import date
from pathlib import Path
from typing import Callable, Optional

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.frontend_timing import (GOAL_P95_MS, MEASURED, OBSERVER_JS, QUIET_MS, READ_JS, SETTLED_JS,  # noqa: E402
                                   Row, latency_ms, phases, table)

CHANGE_TIMEOUT_MS = 120_000
TEXT_PROMPT = "What is the capital of France?"
ATTENTION_PROMPT, ATTENTION_ANSWER = "Name a fruit.", "Apples are sweet and crisp."
AUDIT_ITEMS = "120"
PAGES = ("text", "attention", "calibration")


def key_area(*keys: str) -> str:
    """A CSS selector list for the element containers of these Streamlit widget keys."""
    return ", ".join(f"[class*='st-key-{k}']" for k in keys)


def timed_change(page, area: str, act: Callable[[], None], check: Optional[Callable[[], None]] = None
                 ) -> tuple[float, dict]:
    """Milliseconds of one change and its phases (frontend_timing.phases): arm the page-side recorder on `area`, do
    `act` (which sends the input event), wait until the change settled (frontend_timing.SETTLED_JS), then run
    `check` (an assertion that the view shows the change)."""
    from tests.e2e.conftest import wait_until_idle

    page.mouse.move(2, 2)
    wait_until_idle(page)
    page.wait_for_timeout(200)
    page.evaluate(OBSERVER_JS, area)
    act()
    page.wait_for_function(SETTLED_JS, arg=QUIET_MS, timeout=CHANGE_TIMEOUT_MS)
    reading = page.evaluate(READ_JS)
    measured = latency_ms(reading)
    if measured is None:
        raise RuntimeError(f"no input event or no change in {area}: {reading}")
    if check:
        check()
    return measured, phases(reading)


def repeat(row: Row, page, times: int, act: Callable[[int], None],
           check: Optional[Callable[[int], None]] = None) -> Row:
    """Do change i = 0 .. times-1 through act(i), timing each into row.samples_ms."""
    for i in range(times):
        record(row, timed_change(page, row.area, lambda: act(i), (lambda: check(i)) if check else None), i, times)
    return row


def record(row: Row, measured: tuple[float, dict], i: int, times: int) -> None:
    """Keep change i's milliseconds and phases in row and say them."""
    row.samples_ms.append(measured[0])
    row.phases.append(measured[1])
    print(f"  {row.interaction} {i + 1}/{times}: {measured[0]:.0f} ms {measured[1]}", flush=True)


def text_page_rows(page, url: str, repeats: int, model_repeats: int) -> list[Row]:
    """Colour-by switch, token click and the Text page's temperature (a new analysis) on one generated answer."""
    from tests.e2e.conftest import HEATMAP_BARS, analyze, click_centre

    analyze(page, url, TEXT_PROMPT)
    labels = page.locator(f"{key_area('text_measure_view')} [role='radiogroup'] label")
    measures = labels.count()
    colour = repeat(Row("colour-by switch", "Text", False, "no (in the browser)",
                        key_area("text_answer_heatmap", "text_measure_view", "text_prompt_heatmap")),
                    page, repeats, lambda i: labels.nth((i + 1) % measures).click())
    bars = page.locator(HEATMAP_BARS)
    tokens = bars.count()
    token = repeat(Row("token click", "Text", False, "no (in the browser)",
                       key_area("text_detail_view", "text_answer_heatmap", "text_answer_curve")),
                   page, repeats, lambda i: click_centre(page, bars.nth(i % tokens)),
                   lambda i: page.locator(key_area("text_detail_view")).get_by_text(
                       "Selected token").wait_for(timeout=10_000))
    page.get_by_text("Model and generation settings").click()
    temperature = page.get_by_label("Temperature", exact=True)

    def analyze_at(i: int) -> None:
        page.get_by_role("button", name="Analyze").click()

    def set_temperature(i: int) -> None:
        temperature.fill(f"{1.05 + 0.05 * i:.2f}")
        temperature.press("Tab")

    row = Row("text temperature + Analyze", "Text", True, "yes (generates again)", key_area("text_answer_heatmap"),
              note="Temperature on the Text page is a form field: it takes effect on Analyze, which generates the "
                   "answer again at the new temperature (a model call; no cache hit, each value is new). Timed "
                   "from the Analyze click to the redrawn heatmap.")
    for i in range(model_repeats):
        set_temperature(i)
        record(row, timed_change(page, row.area, lambda: analyze_at(i)), i, model_repeats)
    return [colour, token, row]


def attention_rows(page, url: str, repeats: int) -> list[Row]:
    """Layer/head change through the head grid on one scored answer (each change a head not shown before)."""
    from tests.e2e.conftest import click_centre, wait_until_idle

    page.goto(f"{url}/attention", wait_until="domcontentloaded")
    page.get_by_role("textbox", name="Prompt").fill(ATTENTION_PROMPT)
    page.get_by_role("textbox", name="Answer to score (optional)").fill(ATTENTION_ANSWER)
    page.get_by_role("button", name="Analyze").click()
    grid = page.locator(f"{key_area('attn_head_grid')} .js-plotly-plot g.trace.scatter .point")
    grid.first.wait_for(timeout=CHANGE_TIMEOUT_MS)
    wait_until_idle(page)
    click_centre(page, grid.nth(0))  # from the mean of the heads to one head (not timed)
    page.get_by_text("looked (layer 1, head 1)", exact=False).wait_for(timeout=CHANGE_TIMEOUT_MS)
    row = Row("layer/head change", "Attention", False, "no (in the browser)",
              key_area("attn_attention_matrix", "attn_head_grid", "attn_looked_token_weights"),
              note="a head not shown before each time: every map of the window came with the first view "
                   "(every_map), so the browser swaps in its matrix, outline and where the token looked; the page "
                   "follows 500 ms after the last change by rerunning only the controls' fragment.")
    return [repeat(row, page, repeats, lambda i: click_centre(page, grid.nth(i + 1)))]


def calibration_rows(page, url: str, repeats: int) -> list[Row]:
    """Reliability bar click and the live temperature slider on one digits audit."""
    from playwright.sync_api import expect

    from tests.e2e.conftest import wait_until_idle

    page.goto(f"{url}/calibration", wait_until="domcontentloaded")
    page.get_by_text("Digits classifier (held-out scikit-learn digits)").click()
    expect(page.get_by_label("Max new tokens", exact=True)).to_be_disabled(timeout=CHANGE_TIMEOUT_MS)
    wait_until_idle(page)
    items = page.get_by_label("Items (first N)", exact=True)
    items.fill(AUDIT_ITEMS)
    items.press("Enter")
    wait_until_idle(page)
    page.get_by_role("button", name="Run audit").click()
    page.get_by_text(f"{AUDIT_ITEMS} items, accuracy").wait_for(timeout=CHANGE_TIMEOUT_MS)
    page.locator(f"{key_area('calib_histogram')} .js-plotly-plot").wait_for(timeout=CHANGE_TIMEOUT_MS)
    wait_until_idle(page)
    bars = page.locator(f"{key_area('calib_reliability_softmax')} .js-plotly-plot g.trace.bars").first \
        .locator("g.point")

    def click_bin(i: int) -> None:
        bar = bars.nth(bars.count() - 1 - i % 2)
        bar.scroll_into_view_if_needed()
        box = bar.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

    tab = "[role='tabpanel']:has([class*='st-key-calib_reliability_softmax'])"  # the chart, bin heading, items
    reliability = repeat(Row("reliability bar click", "Calibration", False, "no (in the browser)", tab),
                         page, repeats, click_bin,
                         lambda i: page.get_by_text("equal-width bin", exact=False).first.wait_for(timeout=10_000))
    page.get_by_role("tab", name="Recalibration").click()
    wait_until_idle(page)
    slider = page.locator(f"{key_area('calib_temperature')} input[type='range']").first
    slider.scroll_into_view_if_needed()

    def step(i: int) -> None:
        slider.focus()  # the slider's range input; one arrow key = one 0.05 step
        page.keyboard.press("ArrowRight")

    live = repeat(Row("temperature slider", "Calibration", False, "no (in the browser)",
                      key_area("calib_live_figure", "calib_temperature")), page, repeats, step)
    return [reliability, live]


def environment() -> dict:
    """Where the figures were measured."""
    import importlib.metadata

    versions = {}
    for package in ("streamlit", "plotly", "playwright"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return {"date": date.today().isoformat(), "platform": platform.platform(), "python": platform.python_version(),
            "chromium": shutil.which("chromium"), "versions": versions}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, help="changes per interaction (default 20; 5 with --quick)")
    p.add_argument("--model-repeats", type=int, help="changes of the row that runs the model (default 5; 2 with "
                                                     "--quick)")
    p.add_argument("--threads", type=int, help="torch CPU threads of the app (OMP_NUM_THREADS; default: torch's)")
    p.add_argument("--pages", nargs="+", choices=PAGES, default=list(PAGES), help="pages to measure (default all)")
    p.add_argument("--quick", action="store_true", help="fewer changes: a check that every row still runs")
    p.add_argument("--out", type=Path, help="JSON report (default artifacts/bench/bench_frontend[-quick].json)")
    return p


def main() -> int:
    args = parser().parse_args()
    repeats = args.repeats or (5 if args.quick else 20)
    model_repeats = args.model_repeats or (2 if args.quick else 5)
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM_ARGS, free_port, streamlit_app

    env = {"OMP_NUM_THREADS": str(args.threads), "MKL_NUM_THREADS": str(args.threads)} if args.threads else {}
    rows: list[Row] = []
    with streamlit_app(free_port(), env) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        try:
            measures = {"text": lambda p: text_page_rows(p, url, repeats, model_repeats),
                        "attention": lambda p: attention_rows(p, url, repeats),
                        "calibration": lambda p: calibration_rows(p, url, repeats)}
            for pages_rows in (measures[name] for name in args.pages):
                context = browser.new_context(viewport={"width": 1280, "height": 1000})
                rows += pages_rows(context.new_page())
                context.close()
        finally:
            browser.close()
    print(table(rows))
    report = {"benchmark": "bench_frontend", "measured": MEASURED, "goal": f"p95 <= {GOAL_P95_MS:g} ms for views "
              "that need no model call", "repeats": repeats, "model_repeats": model_repeats, "quick": args.quick,
              "threads": args.threads, "pages": args.pages, "environment": environment(),
              "rows": [r.as_json() for r in rows]}
    out = args.out or ROOT / "artifacts" / "bench" / f"bench_frontend{'-quick' if args.quick else ''}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
