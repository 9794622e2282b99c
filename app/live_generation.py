"""Live generation on the Text page: the answer's tokens drawn coloured while they are generated, and a Stop that
keeps what came (the page then shows the analysis of the tokens so far, stop reason "stopped").

The work runs in a worker thread (the client's stream_text, in process or over HTTP) under a budget, as
app.long_work runs other requests. A Stop click reruns the script (Streamlit stops the running script and starts it
again), so the job outlives one script run: it is kept in the session, the Stop button's callback asks it to finish
(not to cancel), and the next run picks it up again and waits for the analysis. At each token the job checks that
someone still waits: the end of the session (tab closed), a move to another page of the app, a new request, or no
script run watching it for ORPHAN_S cancel it (nothing kept).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import streamlit as st
from streamlit import runtime
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

from app.long_work import (POLL_S, QUIET_S, STOPPED_MESSAGE, live_result_key, progress_text, report_failure,
                           run_page_request, was_stopped)
from app.services import analyze_text, get_client
from backend.clients import DEFAULT_DEADLINE_S, DEFAULT_MAX_TOKEN_PASSES, Budget, WorkCancelled, run_under
from backend.schemas import TextAnalysis, TextRequest, TokenScore
from components.errors import EXPECTED_ERRORS
from components.live_tokens import LIVE_LEGEND, live_tokens_html

ORPHAN_S = 10.0
LIVE_LABEL = "Show tokens as they are generated"
STOP_LABEL = "Stop (keep what came)"
StreamCall = Callable[[Callable[[TokenScore], None], Callable[[], bool]], TextAnalysis]


@dataclass
class LiveJob:
    """One live generation: its request, budget, the tokens received so far, the keep-what-came flag, the worker
    and its outcome ({"result": analysis} or {"error": exception}), when a script run last watched it, and the
    session and page that started it."""

    request_json: str
    budget: Budget
    session_id: str = ""
    page_hash: str = ""
    keep: threading.Event = field(default_factory=threading.Event)
    tokens: list[TokenScore] = field(default_factory=list)
    outcome: dict = field(default_factory=dict)
    worker: Optional[threading.Thread] = None
    seen: float = field(default_factory=time.monotonic)

    def on_token(self, token: TokenScore) -> None:
        """Keep a token as it comes (worker thread); when nobody waits for it any more, cancel the work and stop
        it here (WorkCancelled), before the next token."""
        self.tokens.append(token)
        gone = self.left_behind()
        if gone:
            self.budget.cancel(gone)
            self.budget.check()

    def left_behind(self) -> str:
        """Why nobody waits for the job any more ("" while someone does): its session ended, the session is on
        another page (the worker carries the session's script context), or no script run watched it lately."""
        if self.session_id and runtime.exists() and not runtime.get_instance().is_active_session(self.session_id):
            return "the tab was closed"
        context = get_script_run_ctx(suppress_warning=True)
        if self.page_hash and context is not None and context.page_script_hash != self.page_hash:
            return "the user went to another page"
        if time.monotonic() - self.seen > ORPHAN_S:
            return "no page watched this generation any more"
        return ""


def job_key(key: str) -> str:
    """Session-state key of the page's live job."""
    return f"{key}_live_job"


def live_key(key: str) -> str:
    """Session-state key of the page's "show tokens as they are generated" toggle."""
    return f"{key}_live_on"


def start_job(call: StreamCall, request_json: str) -> LiveJob:
    """A LiveJob running call(on_token, should_stop) in a worker thread under a fresh budget."""
    context = get_script_run_ctx()
    job = LiveJob(request_json, Budget(deadline_s=DEFAULT_DEADLINE_S, max_token_passes=DEFAULT_MAX_TOKEN_PASSES),
                  session_id=context.session_id if context else "", page_hash=context.page_script_hash if context else "")

    def work() -> None:
        try:
            job.outcome["result"] = run_under(job.budget, call, job.on_token, job.keep.is_set)
        except BaseException as exc:  # handed to the script thread, which reports it
            job.outcome["error"] = exc

    job.worker = threading.Thread(target=work, name="uqlens-live", daemon=True)
    add_script_run_ctx(job.worker, context)
    job.worker.start()
    return job


def live_status(job: LiveJob) -> str:
    """What the progress bar says: generating (with the time left), or analysing the tokens kept after Stop."""
    if job.keep.is_set():
        return f"Stopping: analysing the {len(job.tokens):,} tokens kept… {job.budget.elapsed():.0f} s so far"
    return progress_text(job.budget.last, job.budget.elapsed())


def show_live_until_done(slot, job: LiveJob, key: str) -> None:
    """Draw the progress bar, the Stop (keep what came) button and the tokens so far in `slot`, redrawing every
    POLL_S while the worker runs (the tokens only when more came)."""
    with slot.container():
        bar = st.progress(0.0, text=live_status(job))
        st.button(STOP_LABEL, key=f"{key}_live_stop", on_click=job.keep.set, disabled=job.keep.is_set(),
                  help="end generation now and analyse the tokens generated so far")
        tokens_area = st.empty()
        st.caption(LIVE_LEGEND)
    drawn = -1
    while job.worker.is_alive():
        job.seen = time.monotonic()
        progress = job.budget.last
        fraction = 1.0 if job.keep.is_set() else progress.fraction if progress else 0.0
        bar.progress(fraction, text=live_status(job))
        if len(job.tokens) != drawn:
            drawn = len(job.tokens)
            tokens_area.markdown(live_tokens_html(job.tokens[:drawn]), unsafe_allow_html=True)
        job.worker.join(POLL_S)


def wait_for(slot, job: LiveJob, key: str) -> None:
    """Watch the job in `slot` (an st.empty) until its worker ends. Whatever ends this script run early (a Stop or
    another widget's rerun, the session closing) leaves the job running: the next run of this page picks it up,
    and the job cancels itself when nobody does (LiveJob.left_behind)."""
    try:
        job.seen = time.monotonic()
        job.worker.join(QUIET_S)
        if job.worker.is_alive():
            show_live_until_done(slot, job, key)
    finally:
        slot.empty()


def run_live_request(call: StreamCall, *, key: str, request_json: str, request_key: str) -> Optional[TextAnalysis]:
    """The request's analysis generated live (see the module's docstring), or None after saying why there is none
    (as app.long_work.run_page_request: stopped with nothing kept, refused, or retryable)."""
    slot = st.empty()  # always drawn, so the elements after it keep their place (an open expander stays open)
    kept = st.session_state.get(live_result_key(key))
    if kept is not None and kept[0] == request_json:
        return stopped_note(kept[1])
    if was_stopped(key, request_json):
        st.info(STOPPED_MESSAGE)
        return None
    job = st.session_state.get(job_key(key))
    if job is None or job.request_json != request_json:
        job = st.session_state[job_key(key)] = start_job(call, request_json)
    wait_for(slot, job, key)
    st.session_state.pop(job_key(key), None)
    try:
        if "error" in job.outcome:
            raise job.outcome["error"]
    except WorkCancelled:
        st.info(STOPPED_MESSAGE)
        return None
    except EXPECTED_ERRORS as exc:
        report_failure(exc, key=key, request_key=request_key)
        return None
    st.session_state[live_result_key(key)] = (request_json, job.outcome["result"])
    return stopped_note(job.outcome["result"])


def stopped_note(analysis: TextAnalysis) -> TextAnalysis:
    """The analysis, after saying (when the user stopped it) that it holds the tokens generated before Stop."""
    if analysis.stop_reason == "stopped":
        st.info(f"Stopped. Kept the {len(analysis.tokens):,} tokens generated before Stop: the analysis below is "
                f"theirs (stop reason: stopped). Press Analyze to generate the whole answer again.")
    return analysis


def run_text_request(request_json: str, *, key: str, request_key: str) -> Optional[TextAnalysis]:
    """A Text page request: generated live (a toggle, on by default) or as one cached call with a progress bar;
    an answer given to score always the latter. A live result kept for this request is shown either way."""
    kept = st.session_state.get(live_result_key(key))
    job = st.session_state.get(job_key(key))
    if job is not None and job.request_json != request_json:
        job.budget.cancel("another request replaced it")
        st.session_state.pop(job_key(key))
    generating = TextRequest.model_validate_json(request_json).answer is None
    live = generating and st.toggle(LIVE_LABEL, value=True, key=live_key(key),
                                    help="draw the answer's tokens, coloured by probability, while the model "
                                         "generates them; Stop then keeps what came")
    if live or (kept is not None and kept[0] == request_json):
        def stream(on_token, should_stop) -> TextAnalysis:
            return get_client().stream_text(TextRequest.model_validate_json(request_json), on_token, should_stop)
        return run_live_request(stream, key=key, request_json=request_json, request_key=request_key)
    return run_page_request(lambda: analyze_text(request_json), key=key, request_json=request_json,
                            request_key=request_key)
