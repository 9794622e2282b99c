"""Live generation: the answer's tokens handed to whoever waits as they are generated, and a "finish now" signal.

A `TokenStream` is installed for the thread that runs a text analysis with `streaming(stream)` (as a budget is
with backend.budget.working_under). While generate runs, the pipeline publishes each new token (a TokenScore from
that step's logits, the same formulas as the finished analysis) and asks `finishing()` after each one; when the
reader asked to finish (`finish()`, or its `should_stop` answers True) generation ends after the current token and
the answer so far is analysed as usual, with stop_reason "stopped". Finishing keeps what came; cancelling the
request's budget (backend.budget) keeps nothing. Without an installed stream nothing of this costs anything.
This module is free of torch (the clients import it).
"""
from __future__ import annotations

import contextvars
import threading
from contextlib import contextmanager
from typing import Callable, Iterator, Optional

from backend.schemas import TokenScore

TokenCallback = Callable[[TokenScore], None]
StepObserver = Callable[[object], None]


class TokenStream:
    """The tokens published so far, the reader's callbacks, and whether generation was asked to finish.

    Thread-safe: the generating thread publishes, any thread may read `tokens()` or call `finish()`.
    on_token(token) is called in the generating thread for each token; should_stop() is asked after each token.
    """

    def __init__(self, on_token: Optional[TokenCallback] = None,
                 should_stop: Optional[Callable[[], bool]] = None) -> None:
        self._on_token = on_token
        self._should_stop = should_stop
        self._tokens: list[TokenScore] = []
        self._lock = threading.Lock()
        self._finish = threading.Event()
        self._observer: Optional[StepObserver] = None
        self.stopped_early = False  # generation ended because the reader asked it to

    def tokens(self) -> list[TokenScore]:
        """A copy of the tokens published so far, in order."""
        with self._lock:
            return list(self._tokens)

    def publish(self, token: TokenScore) -> None:
        """Add one generated token and hand it to on_token."""
        with self._lock:
            self._tokens.append(token)
        if self._on_token is not None:
            self._on_token(token)

    def finish(self) -> None:
        """Ask generation to end after the current token; the answer so far is analysed and kept."""
        self._finish.set()

    def finishing(self) -> bool:
        """Whether the reader asked generation to end (finish(), or should_stop() answering True)."""
        if not self._finish.is_set() and self._should_stop is not None and self._should_stop():
            self._finish.set()
        return self._finish.is_set()

    @contextmanager
    def observing(self, observer: StepObserver) -> Iterator[None]:
        """Have step(ids) call observer(ids) inside the block (the pipeline that knows the model turns the step's
        logits into the new token there)."""
        self._observer = observer
        try:
            yield
        finally:
            self._observer = None

    def step(self, ids: object) -> bool:
        """Called by generation after each new token (ids: the sequence so far, its last id the new token):
        publishes it through the observer and answers whether to end generation now."""
        if self._observer is not None:
            self._observer(ids)
        if self.finishing():
            self.stopped_early = True
            return True
        return False


_current: contextvars.ContextVar[Optional[TokenStream]] = contextvars.ContextVar("uqlens_stream", default=None)


@contextmanager
def streaming(stream: Optional[TokenStream]) -> Iterator[Optional[TokenStream]]:
    """Install `stream` for the text analysis run inside the block (this thread / context only)."""
    token = _current.set(stream)
    try:
        yield stream
    finally:
        _current.reset(token)


def current_stream() -> Optional[TokenStream]:
    """The stream installed for this context, if any."""
    return _current.get()


def live_text_operation():
    """The analyze_text row run live: the same request and answer, each generated token published to the stream
    installed for the call (the in-process pipeline backend.text.live, the served one backend.served.live_text).
    Not a row of the operations table: its route streams (backend.service.text_stream)."""
    from backend.schemas import TextAnalysis, TextRequest
    from backend.service.operations import Operation

    return Operation("/v1/text/stream", TextRequest, TextAnalysis, "backend.text.live:analyze_live_text", "text model",
                     True, "Token-level uncertainty of a generated answer, each token sent as it is generated.",
                     served="backend.served.live_text:analyze_live_served_text", method_name="stream_text")
