"""Long work on the Text page in a real browser: progress with the time left, Stop, and a closed tab stop the work
(the app process goes idle instead of generating on for nobody)."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import ARTIFACTS, ROOT, RESULT_TIMEOUT_MS, free_port, running_process, wait_until_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]
IDLE_CPU_S = 1.0  # CPU seconds the app may use in WATCH_S once stopped; generating uses about 2 per second
WATCH_S = 4.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its threads, from /proc (clock ticks of 1/100 s)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100


def cpu_used_while_watching(pid: int) -> float:
    """CPU seconds the process uses over the next WATCH_S seconds."""
    before = cpu_seconds(pid)
    time.sleep(WATCH_S)
    return cpu_seconds(pid) - before


@pytest.fixture(scope="module")
def app_process():
    """A `streamlit run` of the app of its own, so its CPU use is this test's alone; yields (url, process)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app" / "main.py"), "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true"]
    with running_process(command, f"{url}/_stcore/health", {}) as process:
        yield url, process


def start_long_generation(page, url: str) -> None:
    """A sampled 600-token answer at temperature 5 (an end token is unlikely): minutes of work on a CPU."""
    page.goto(f"{url}/text", wait_until="domcontentloaded")
    page.get_by_role("textbox", name="Prompt").wait_for(timeout=RESULT_TIMEOUT_MS)  # first run imports the backend
    page.get_by_role("textbox", name="Prompt").fill("Tell me a very long story about a lighthouse keeper.")
    page.get_by_text("Model and generation settings").click()
    page.get_by_role("spinbutton", name="Max new tokens").fill("600")
    page.get_by_text("sample", exact=True).click()
    page.get_by_role("spinbutton", name="Temperature").fill("5")
    page.get_by_role("button", name="Analyze").click()
    page.get_by_text("Generating:").wait_for(timeout=RESULT_TIMEOUT_MS)


def test_progress_shows_the_time_left_and_stop_ends_the_work(page, app_process):
    url, process = app_process
    start_long_generation(page, url)
    status = page.get_by_text("Generating:").inner_text()
    assert "of 600 tokens" in status and "left" in status
    page.screenshot(path=str(ARTIFACTS / "text-page-progress.png"), full_page=True)
    page.get_by_role("button", name="Stop").click()
    page.get_by_text("Stopped.").wait_for(timeout=30_000)
    wait_until_idle(page)  # a live generation's Stop keeps what came: the page draws its analysis first
    assert cpu_used_while_watching(process.pid) < IDLE_CPU_S
    assert not page.locator("[data-testid='stException']").count()


def test_closing_the_tab_stops_the_work(browser, app_process):
    url, process = app_process
    context = browser.new_context()
    page = context.new_page()
    start_long_generation(page, url)
    context.close()
    time.sleep(2)  # the session ends when the socket closes; the work stops at its next token
    assert cpu_used_while_watching(process.pid) < IDLE_CPU_S
