"""Long work on a page: progress with the time left, a Stop button, and no work left running for nobody.

The call runs in a worker thread under a budget (backend.clients.Budget) while the script thread shows where it
stands.
Any rerun (Stop, another widget) or the end of the session (the tab was closed) interrupts the script thread at
its next update; the `finally` then cancels the budget, so the worker stops at its next checkpoint (a chunk of the
prompt, a generated token) instead of running on. Over HTTP the backend applies its own budget and deadline; the
page can only stop waiting.
"""
from __future__ import annotations

import threading
from typing import Callable, Optional, TypeVar

import streamlit as st
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

from backend.clients import (DEFAULT_DEADLINE_S, DEFAULT_MAX_TOKEN_PASSES, Budget, Progress, WorkCancelled,
                             run_under)
from components.errors import EXPECTED_ERRORS, refused, show_error

T = TypeVar("T")
POLL_S = 0.25
QUIET_S = 0.3  # a cached or quick result shows without a progress bar flashing first
STAGE_WORDS = {"prompt": "Reading the prompt", "tokens": "Generating", "passes": "Running passes"}


def duration_words(seconds: float) -> str:
    """'12 s', '3 min 05 s' for a duration in seconds."""
    seconds = max(0, round(seconds))
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60:02d} s"


def progress_text(progress: Optional[Progress], elapsed_s: float) -> str:
    """What the progress bar says: the stage, units done of total, and the time left (an upper bound while
    generating, which may end early at an end token)."""
    if progress is None:
        return f"Starting (the model loads on first use)… {duration_words(elapsed_s)}"
    words = STAGE_WORDS.get(progress.stage, progress.stage.capitalize())
    unit = "tokens" if progress.stage in ("prompt", "tokens") else progress.stage
    text = f"{words}: {progress.done:,} of {progress.total:,} {unit} · {duration_words(elapsed_s)} so far"
    left = progress.seconds_left
    if left is not None:
        text += f" · {'at most ' if progress.stage == 'tokens' else 'about '}{duration_words(left)} left"
    return text


def stopped_key(key: str) -> str:
    """Session-state key of the request the user stopped on a page (so the rerun does not start it again)."""
    return f"{key}_stopped"


def was_stopped(key: str, request_json: str) -> bool:
    """Whether the user pressed Stop on exactly this request."""
    return st.session_state.get(stopped_key(key)) == request_json


def live_result_key(key: str) -> str:
    """Session-state key of the page's last live result: (request JSON, analysis) (app.live_generation)."""
    return f"{key}_live_result"


def forget_stop(key: str) -> None:
    """A new submission runs even if it is the request that was stopped before (or whose live result is kept)."""
    st.session_state.pop(stopped_key(key), None)
    st.session_state.pop(live_result_key(key), None)


def run_with_progress(call: Callable[[], T], *, key: str, request_json: str) -> T:
    """call() in a worker thread under a fresh budget, with a progress bar and a Stop button meanwhile.

    Returns call()'s result or raises its exception (WorkCancelled after a Stop that the worker saw in time).
    """
    budget = Budget(deadline_s=DEFAULT_DEADLINE_S, max_token_passes=DEFAULT_MAX_TOKEN_PASSES)
    outcome: dict = {}

    def work() -> None:
        try:
            outcome["result"] = run_under(budget, call)
        except BaseException as exc:  # handed to the script thread, which reports it
            outcome["error"] = exc

    worker = threading.Thread(target=work, name=f"uqlens-{key}", daemon=True)
    add_script_run_ctx(worker, get_script_run_ctx())
    worker.start()
    slot = st.empty()  # always drawn, so the elements after it keep their place (an open expander stays open)
    try:
        worker.join(QUIET_S)
        if worker.is_alive():
            show_progress_until_done(slot, worker, budget, key, request_json)
    finally:
        budget.cancel("the page stopped waiting")
        slot.empty()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def show_progress_until_done(slot, worker: threading.Thread, budget: Budget, key: str, request_json: str) -> None:
    """Draw the progress bar and Stop button in `slot` (an st.empty), updating them until the worker ends."""
    with slot.container():
        bar = st.progress(0.0, text=progress_text(None, budget.elapsed()))
        st.button("Stop", key=f"{key}_stop", on_click=st.session_state.__setitem__,
                  args=(stopped_key(key), request_json), help="stop this analysis; nothing is kept of it")
    while worker.is_alive():
        progress = budget.last
        bar.progress(progress.fraction if progress else 0.0, text=progress_text(progress, budget.elapsed()))
        worker.join(POLL_S)


STOPPED_MESSAGE = "Stopped. Nothing was kept of this run; press Analyze to run it again."


def run_page_request(call: Callable[[], T], *, key: str, request_json: str, request_key: str) -> Optional[T]:
    """A page's request run with run_with_progress: its result, or None after saying why there is none.

    A stopped request waits for the next submit; one the backend refused is forgotten (st.session_state loses
    `request_key`); one it could not serve now (busy, down, past its deadline) is kept with a Retry button.
    """
    if was_stopped(key, request_json):
        st.info(STOPPED_MESSAGE)
        return None
    try:
        return run_with_progress(call, key=key, request_json=request_json)
    except WorkCancelled:
        st.info(STOPPED_MESSAGE)
    except EXPECTED_ERRORS as exc:
        report_failure(exc, key=key, request_key=request_key)
    return None


def report_failure(exc: Exception, *, key: str, request_key: str) -> None:
    """Say why a page's request failed: one the backend refused is forgotten (st.session_state loses
    `request_key`); one it could not serve now is kept with a Retry button."""
    show_error(exc, kept="Your prompt and settings are kept.", retry_key=f"{key}_retry")
    if refused(exc):
        st.session_state.pop(request_key, None)
