"""Admission control: a bounded number of running and waiting requests, and a bounded amount of queued work.

Each request is admitted with its estimated cost in token-passes (backend.service.cost). Besides the counts, the
work already admitted (running + waiting) may not pass `max_queued_cost`, so a queue of a few very long requests
is refused as a queue of many short ones would be; a request arriving at an empty backend is always admitted (its
own size is bounded by the request's budget, not here). A refusal's Retry-After grows with the work ahead.

Requests on a served model (its engine computes; UQ Lens only waits on the network) go through a queue of their
own with a larger running limit, so a class on a served model is batched by its engine instead of queued here
behind one in-process slot, and never waits behind in-process work.
"""
from __future__ import annotations

import asyncio
import math
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable, Optional

from backend.errors import BackendBusyError


class Admission:
    """At most `max_running` requests compute at once and `max_waiting` wait, holding at most `max_queued_cost`
    token-passes of work between them; the next one is refused at once.

    Lives on the event loop (single-threaded), so the counters need no lock.
    """

    def __init__(self, max_running: int, max_waiting: int, retry_after_s: float,
                 max_queued_cost: Optional[int] = None, seconds_per_token_pass: float = 0.0) -> None:
        self.max_running = max_running
        self.max_waiting = max_waiting
        self.retry_after_s = retry_after_s
        self.max_queued_cost = max_queued_cost
        self.seconds_per_token_pass = seconds_per_token_pass
        self.admitted = 0
        self.queued_cost = 0
        self._semaphore = asyncio.Semaphore(max_running)

    def retry_after(self) -> float:
        """Seconds to suggest: the configured pause, or the time the admitted work should take if longer."""
        return max(self.retry_after_s, math.ceil(self.queued_cost * self.seconds_per_token_pass))

    def _refuse_reason(self, cost: int) -> Optional[str]:
        """Why a request of `cost` cannot be admitted now, or None when it can."""
        if self.admitted >= self.max_running + self.max_waiting:
            return f"{self.admitted} requests running or waiting"
        if self.admitted and self.max_queued_cost is not None and self.queued_cost + cost > self.max_queued_cost:
            return (f"{self.queued_cost:,} token-passes of work already admitted, and this request adds about "
                    f"{cost:,} (at most {self.max_queued_cost:,} are queued)")
        return None

    @asynccontextmanager
    async def slot(self, cost: int = 0) -> AsyncIterator[None]:
        """Hold a running slot for the body of the block; raises BackendBusyError when the slots, the queue or
        the queued work are full."""
        reason = self._refuse_reason(cost)
        if reason is not None:
            retry = self.retry_after()
            raise BackendBusyError(f"the backend is busy ({reason}); retry in {retry:g} s", retry)
        self.admitted += 1
        self.queued_cost += cost
        try:
            async with self._semaphore:
                yield
        finally:
            self.admitted -= 1
            self.queued_cost -= cost


def requested_model(request: Any) -> Optional[str]:
    """The model id a request names (request.model, or request.text.model for a sequence request), else None."""
    model = getattr(request, "model", None)
    if model is None:
        model = getattr(getattr(request, "text", None), "model", None)
    return model if isinstance(model, str) else None


@dataclass(frozen=True)
class Admissions:
    """The service's two queues: work on models in this process, and work on served models."""

    in_process: Admission
    served: Admission

    def of(self, request: Any, is_served: Callable[[str], bool]) -> Admission:
        """The queue a request waits in: `served` when the model it names is served (is_served(id)), else
        `in_process`."""
        model = requested_model(request)
        return self.served if model is not None and is_served(model) else self.in_process
