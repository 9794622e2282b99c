"""`text --stream`: the answer's tokens printed to stderr as they are generated (stdout keeps the usual table or
JSON), and Ctrl-C during generation ends it early, keeping the tokens so far (a second Ctrl-C interrupts)."""
from __future__ import annotations

import signal
import sys
import threading
from contextlib import contextmanager
from typing import Iterator, TextIO

from backend.clients.protocol import Client
from backend.schemas import TextAnalysis, TextRequest, TokenScore


def token_printer(out: TextIO):
    """on_token for Client.stream_text: each token's text written to `out` at once (no newline)."""
    def on_token(token: TokenScore) -> None:
        out.write(token.text)
        out.flush()
    return on_token


@contextmanager
def ctrl_c_finishes(stop: threading.Event) -> Iterator[None]:
    """Inside the block the first Ctrl-C sets `stop` (generation ends, the answer so far is kept) and later ones
    interrupt as usual; outside the main thread nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def on_interrupt(signum, frame) -> None:
        if stop.is_set():
            signal.default_int_handler(signum, frame)
        stop.set()
    signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def stream_analysis(client: Client, request: TextRequest, out: TextIO = sys.stderr) -> TextAnalysis:
    """client.stream_text with the tokens printed to `out` as they come, ended by a newline (and a line saying
    so when Ctrl-C stopped generation)."""
    stop = threading.Event()
    with ctrl_c_finishes(stop):
        result = client.stream_text(request, token_printer(out), stop.is_set)
    out.write("\n" + (f"[stopped after {len(result.tokens)} tokens; the analysis is of those]\n"
                      if result.stop_reason == "stopped" else ""))
    out.flush()
    return result
