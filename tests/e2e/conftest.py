"""A real `streamlit run` of the app on a free loopback port, and headless Chromium to drive it."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "screenshots"
LOGS = ROOT / "artifacts" / "logs"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(health_url: str, process: subprocess.Popen, log: Path, timeout_s: float = 120) -> None:
    """Poll a health URL until it answers 200, or fail with the server's log."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(health_url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{health_url} did not answer 200 in {timeout_s} s")


@contextmanager
def running_process(command: list[str], health_url: str, env: dict) -> Iterator[subprocess.Popen]:
    """Start a server process (output to a log under artifacts/), wait until health_url answers 200, stop it
    afterwards (SIGTERM, then wait)."""
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / f"{Path(command[2]).name}-{urllib.parse.urlsplit(health_url).port}-{time.time_ns()}.log"
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT,
                                   env={**os.environ, "UQLENS_DEVICE": "cpu", **env})
        try:
            wait_healthy(health_url, process, log)
            yield process
        finally:
            process.terminate()
            process.wait(timeout=30)


@contextmanager
def streamlit_app(port: int, env: Optional[dict] = None) -> Iterator[str]:
    """`streamlit run app/main.py` on 127.0.0.1:port; yields the base URL."""
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app" / "main.py"), "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true"]
    with running_process(command, f"{url}/_stcore/health", env or {}):
        yield url


@contextmanager
def backend_service(port: int, env: Optional[dict] = None) -> Iterator[str]:
    """`python -m backend serve` on 127.0.0.1:port, ready (model loaded); yields the base URL."""
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "backend", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with running_process(command, f"{url}/readyz", env or {}):
        yield url


@pytest.fixture(scope="session")
def app_url():
    """Base URL of the app, served in-process on the default models for the whole session."""
    with streamlit_app(free_port()) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven by Playwright (never a downloaded browser)."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("chromium is not installed: `apt-get install chromium` (make test does this)")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    """A fresh page at a desktop size; screenshots of failures go under artifacts/screenshots."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    new_page = context.new_page()
    yield new_page
    context.close()


def open_pages_text(browser, chars: int = 2000, newest: int = 2) -> str:
    """The URL and the end of the visible text of the `newest` pages the browser has open, newest first (what a
    failed test saw; a server the test started itself has stopped by then: its page says so)."""
    shown = []
    pages = [open_page for context in browser.contexts for open_page in context.pages]
    for open_page in reversed(pages[-newest:]):
        try:
            shown.append(f"{open_page.url}\n{open_page.locator('body').inner_text(timeout=5_000)[-chars:]}")
        except Exception as exc:  # a closed or crashed page: say so, the report still goes out
            shown.append(f"{open_page.url}: unreadable ({type(exc).__name__})")
    return "\n---\n".join(shown)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failed browser test, add what its pages showed to the report (CI prints it)."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed and "browser" in getattr(item, "funcargs", {}):
        report.sections.append(("what the pages showed", open_pages_text(item.funcargs["browser"])))


HEATMAP_BARS = "[class*='st-key-text_answer_heatmap'] .js-plotly-plot g.trace.bars g.point"
RESULT_TIMEOUT_MS = 180_000


def analyze(page, url: str, prompt: str, answer: str = "") -> None:
    """Open the Text page, type the prompt (and an answer to score), press Analyze, wait for the heatmap."""
    page.goto(f"{url}/text", wait_until="domcontentloaded")
    page.get_by_role("textbox", name="Prompt").wait_for(timeout=RESULT_TIMEOUT_MS)  # a loaded machine is slow to start
    page.get_by_role("textbox", name="Prompt").fill(prompt)
    if answer:
        page.get_by_role("textbox", name="Answer to score (optional)").fill(answer)
    page.get_by_role("button", name="Analyze").click()
    page.locator(HEATMAP_BARS).first.wait_for(timeout=RESULT_TIMEOUT_MS)


def click_centre(page, locator) -> None:
    """Click a plotly point as a user would: scroll it into view, hover it (plotly picks points on hover, through
    its drag layer) and click its centre."""
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.click(x, y)


def wait_until_idle(page, timeout_s: float = 60) -> None:
    """Wait until Streamlit has finished running the page's script (after a widget change reran it)."""
    page.wait_for_function(
        "() => { const app = document.querySelector('[data-testid=\"stApp\"]');"
        " return app && app.getAttribute('data-test-script-state') !== 'running'; }", timeout=timeout_s * 1000)


def press_save_until_saved(page, scope=None, attempts: int = 2) -> None:
    """Press Save (in `scope`, a locator, else the page) and wait for "Saved as"; on a loaded machine a press during
    a rerun can be lost, so press once more as a user would (saving is idempotent: the id comes from the
    analysis)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    where = scope if scope is not None else page
    for attempt in range(attempts):
        wait_until_idle(page, timeout_s=120)
        where.get_by_role("button", name="Save", exact=True).click()
        try:
            where.get_by_text("Saved as").wait_for(timeout=60_000)
            return
        except PlaywrightTimeout:
            if attempt == attempts - 1:
                raise


def choose_option(page, combobox: str, typed: str, option: str, attempts: int = 3) -> None:
    """Type into a multiselect and click one of its options, as a user would: when a rerun redrew the widget while
    typing (its list closes), wait for the app and type again."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(attempts):
        wait_until_idle(page)
        box = page.get_by_role("combobox", name=combobox)
        box.click()
        box.fill(typed)
        try:
            page.get_by_role("option", name=option).click(timeout=10_000)
            return
        except PlaywrightTimeout:
            if attempt == attempts - 1:
                raise
            page.keyboard.press("Escape")
