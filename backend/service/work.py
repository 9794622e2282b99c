"""Running one heavy request: admitted by its cost, under a budget with a deadline, stopped when the client leaves.

The work runs in a worker thread with its budget installed (backend.budget); meanwhile the event loop watches
the connection, and a client that disconnects (gave up, closed the tab, timed out) cancels the budget, so the work
stops at its next checkpoint (a chunk of positions, a generated token, a batch of passes) instead of running on
for nobody.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, Optional

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from backend.budget import Budget, WorkCancelled, run_under
from backend.service.admission import Admission
from backend.service.cost import request_cost

log = logging.getLogger(__name__)
DISCONNECT_POLL_S = 0.25


async def cancel_on_disconnect(request: Request, budget: Budget, every_s: float = DISCONNECT_POLL_S) -> None:
    """Poll the connection every `every_s` seconds; cancel the budget when the client has gone."""
    while not budget.cancelled:
        if await request.is_disconnected():
            budget.cancel("the client disconnected")
            return
        await asyncio.sleep(every_s)


async def run_budgeted(function: Callable, args: tuple, http_request: Optional[Request], admission: Admission,
                       deadline_s: Optional[float], max_token_passes: Optional[int]) -> Any:
    """function(*args) in a worker thread, admitted with the request's estimated cost, under a fresh budget
    (deadline_s, max_token_passes), cancelled if the client disconnects; logs a stop."""
    cost = request_cost(args[0]) if args else None
    async with admission.slot(cost or 0):
        budget = Budget(deadline_s=deadline_s, max_token_passes=max_token_passes)
        watcher = asyncio.create_task(cancel_on_disconnect(http_request, budget)) if http_request else None
        try:
            return await run_in_threadpool(run_under, budget, function, *args)
        except WorkCancelled as exc:
            log.info("%s stopped: %s", getattr(function, "__name__", "work"), exc)
            raise
        finally:
            if watcher is not None:
                watcher.cancel()
