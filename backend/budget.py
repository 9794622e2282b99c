"""The work budget of one request: a deadline, a Stop that anyone may press, and progress for whoever waits.

A budget is made by whoever starts the work (the service for an HTTP request, a page for a Streamlit run) and
installed for the thread that computes with `working_under(budget)`. The pipelines call `checkpoint()` between
pieces of work (a chunk of positions, a generated token, a batch of passes); it raises `WorkCancelled` when the
client went away or the user pressed Stop, and `DeadlineExceeded` when the request ran past its time. Without an
installed budget a checkpoint costs nothing and never raises, so tests and scripts run unchanged.
"""
from __future__ import annotations

import contextvars
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional

from backend.errors import BackendUnavailableError, UserInputError

ProgressCallback = Callable[["Progress"], None]
DEFAULT_DEADLINE_S = 180  # the largest admitted text request (8k-token prompt) takes about a minute on 2 CPU cores
DEFAULT_MAX_TOKEN_PASSES = 32_768  # an 8k-token prompt read twice; or 2k tokens x 16 samples
SECONDS_PER_TOKEN_PASS = 0.004  # the default model on 2 CPU cores, for the time-left of queued work


class WorkCancelled(RuntimeError):
    """The work was stopped because nobody waits for it any more (client disconnected, Stop pressed)."""


class DeadlineExceeded(BackendUnavailableError):
    """The request ran past its deadline; the message says how long it ran and what to ask for instead."""


@dataclass(frozen=True)
class Progress:
    """Where a request stands: `done` of `total` units of `stage` ("prompt" positions, "tokens", "passes"),
    after `elapsed_s` seconds."""

    stage: str
    done: int
    total: int
    elapsed_s: float

    @property
    def fraction(self) -> float:
        """done / total in [0, 1] (0 when the total is unknown)."""
        return min(1.0, self.done / self.total) if self.total > 0 else 0.0

    @property
    def seconds_left(self) -> Optional[float]:
        """Seconds to finish the stage at the rate so far (an upper bound for generation, which may end early
        at an end token); None before the first unit is done."""
        if self.done <= 0 or self.total <= 0:
            return None
        return self.elapsed_s / self.done * max(0, self.total - self.done)


@dataclass
class Budget:
    """A deadline (seconds from creation; None = no deadline), a cap on the work a request may claim (token
    passes: tokens x full passes over them; None = no cap), a cancel flag and an optional progress sink.

    Thread-safe: `cancel()` may be called from any thread (the event loop, a page's script thread).
    """

    deadline_s: Optional[float] = None
    max_token_passes: Optional[int] = None
    on_progress: Optional[ProgressCallback] = None
    claimed: int = 0
    last: Optional[Progress] = None
    started: float = field(default_factory=time.monotonic)
    _cancelled: threading.Event = field(default_factory=threading.Event)
    reason: str = ""

    def cancel(self, reason: str = "stopped") -> None:
        """Ask the work to stop at its next checkpoint."""
        self.reason = self.reason or reason
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def elapsed(self) -> float:
        """Seconds since the budget was made."""
        return time.monotonic() - self.started

    def check(self) -> None:
        """Raise WorkCancelled after cancel(), DeadlineExceeded past the deadline; else return."""
        if self._cancelled.is_set():
            where = f" at {self.last.done} of {self.last.total} {self.last.stage}" if self.last else ""
            raise WorkCancelled(f"the work was stopped ({self.reason}){where} after {self.elapsed():.1f} s")
        if self.deadline_s is not None and self.elapsed() > self.deadline_s:
            raise DeadlineExceeded(
                f"the request ran past its deadline of {self.deadline_s:g} s and was stopped; ask for fewer new "
                f"tokens, a shorter prompt or fewer samples (the deadline is UQLENS_REQUEST_DEADLINE_S)")

    def claim(self, tokens: int, passes: int, what: str) -> None:
        """Count `passes` passes over `tokens` tokens before doing them; raise UserInputError (nothing done yet)
        when the request's claims would pass its cap."""
        cost = tokens * passes
        if self.max_token_passes is not None and self.claimed + cost > self.max_token_passes:
            raise UserInputError(
                f"{what} needs {passes} pass{'es' if passes != 1 else ''} over {tokens:,} tokens ({cost:,} "
                f"token-passes{f', after {self.claimed:,} already used' if self.claimed else ''}); one request may "
                f"use at most {self.max_token_passes:,}: shorten the prompt, or ask for fewer new tokens or samples")
        self.claimed += cost

    def report(self, stage: str, done: int, total: int) -> None:
        """Tell the progress sink (if any) where the work stands, then check."""
        self.last = Progress(stage=stage, done=done, total=total, elapsed_s=self.elapsed())
        if self.on_progress is not None:
            self.on_progress(self.last)
        self.check()


_current: contextvars.ContextVar[Optional[Budget]] = contextvars.ContextVar("uqlens_budget", default=None)


@contextmanager
def working_under(budget: Optional[Budget]) -> Iterator[Optional[Budget]]:
    """Install `budget` for the checkpoints of the code run inside the block (this thread / context only)."""
    token = _current.set(budget)
    try:
        yield budget
    finally:
        _current.reset(token)


def current_budget() -> Optional[Budget]:
    """The budget installed for this context, if any."""
    return _current.get()


def checkpoint(stage: str = "", done: int = 0, total: int = 0) -> None:
    """Report progress (when a stage is named) and stop the work if it was cancelled or is past its deadline."""
    budget = _current.get()
    if budget is None:
        return
    if stage:
        budget.report(stage, done, total)
    else:
        budget.check()


def claim(tokens: int, passes: int, what: str) -> None:
    """Claim tokens x passes of work from the installed budget (see Budget.claim); free without one."""
    budget = _current.get()
    if budget is not None:
        budget.claim(tokens, passes, what)


def run_under(budget: Optional[Budget], function: Callable, *args):
    """function(*args) with `budget` installed: the form a worker thread runs (threads do not inherit it)."""
    with working_under(budget):
        return function(*args)
