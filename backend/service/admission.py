"""Admission control: a bounded number of running and waiting requests, never an unbounded queue."""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import AsyncIterator

from backend.errors import BackendBusyError


class Admission:
    """At most `max_running` requests compute at once and `max_waiting` wait; the next one is refused at once.

    Lives on the event loop (single-threaded), so the counters need no lock.
    """

    def __init__(self, max_running: int, max_waiting: int, retry_after_s: float) -> None:
        self.max_running = max_running
        self.max_waiting = max_waiting
        self.retry_after_s = retry_after_s
        self.admitted = 0
        self._semaphore = asyncio.Semaphore(max_running)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a running slot for the body of the block; raises BackendBusyError when all slots and the queue
        are taken."""
        if self.admitted >= self.max_running + self.max_waiting:
            raise BackendBusyError(f"the backend is busy ({self.admitted} requests running or waiting); "
                                   f"retry in {self.retry_after_s:g} s", self.retry_after_s)
        self.admitted += 1
        try:
            async with self._semaphore:
                yield
        finally:
            self.admitted -= 1
