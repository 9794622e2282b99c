"""Live generation over HTTP: POST /v1/text/stream answers NDJSON, one event a line, while the answer is generated.

Events (each a JSON object on its own line):
- {"event": "started", "stream_id": ID}: first; POST /v1/text/stream/stop {"stream_id": ID} ends generation early,
- {"event": "token", "token": TokenScore}: each generated token as it comes (numbers from that step's logits),
- {"event": "analysis", "analysis": TextAnalysis}: last; the same analysis POST /v1/text answers (stop_reason
  "stopped" after a stop request: the analysis of the tokens generated so far),
- {"event": "error", "status": S, "detail": D}: last instead, when the work failed after the stream began (S is
  the status POST /v1/text would have answered: 404, 422, 429, 503).
A request is refused before the stream begins as POST /v1/text refuses it (422, 429). A client that closes the
connection cancels the work at its next token: nothing is kept (stop first to keep what came).
"""
from __future__ import annotations

import asyncio
import json
import secrets
import threading
from typing import Any, AsyncIterator, Callable

from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from backend.budget import Budget, DeadlineExceeded, WorkCancelled, run_under
from backend.clients.local import LocalClient
from backend.errors import BackendBusyError, BackendUnavailableError, ItemNotFoundError, UserInputError
from backend.models.registry import UnknownModelError
from backend.schemas import TextRequest
from backend.schemas.live import StreamStop, StreamStopped
from backend.service.admission import Admissions
from backend.service.cost import request_cost
from backend.service.settings import ServiceSettings
from backend.service.work import cancel_on_disconnect

STREAM_PATH = "/v1/text/stream"
STOP_PATH = "/v1/text/stream/stop"
NDJSON = "application/x-ndjson"
ERROR_STATUSES: tuple[tuple[type, int], ...] = (
    (UnknownModelError, 404), (UserInputError, 422), (BackendBusyError, 429), (DeadlineExceeded, 503),
    (BackendUnavailableError, 503), (WorkCancelled, 503))


def error_event(exc: BaseException) -> dict:
    """The last event of a stream whose work failed: the status POST /v1/text would answer, and the message."""
    status = next((code for kind, code in ERROR_STATUSES if isinstance(exc, kind)), 500)
    return {"event": "error", "status": status, "detail": str(exc) if status != 500 else "the analysis failed"}


def line(event: dict) -> bytes:
    """One NDJSON line."""
    return (json.dumps(event, separators=(",", ":")) + "\n").encode()


def add_stream_routes(app: FastAPI, client: LocalClient, admissions: Admissions, settings: ServiceSettings,
                      dependencies: list, check_work_caps: Callable[[Any, ServiceSettings], None]) -> None:
    """Serve STREAM_PATH and STOP_PATH (admitted and budgeted as POST /v1/text is)."""
    stops: dict[str, threading.Event] = {}  # on the event loop only
    working: set[asyncio.Task] = set()  # the producers, held until done (the loop keeps only weak references)

    @app.post(STREAM_PATH, dependencies=dependencies, tags=["analyses"], response_class=StreamingResponse,
              responses={200: {"content": {NDJSON: {}}, "description": "NDJSON events (see the description)"},
                         404: {}, 413: {}, 422: {}, 429: {}, 503: {}})
    async def stream_text(request: TextRequest, http_request: Request) -> StreamingResponse:
        """Token-level uncertainty of a generated answer, each token sent as it is generated (NDJSON events:
        started, token..., analysis or error); POST /v1/text/stream/stop ends it early, keeping what came."""
        check_work_caps(request, settings)
        admission = admissions.of(request, client.engine.pool.is_served)
        slot = admission.slot(request_cost(request) or 0)
        await slot.__aenter__()  # refused here (429) before the stream begins; released when the work ends
        stream_id, stop = secrets.token_urlsafe(12), threading.Event()
        stops[stream_id] = stop
        budget = Budget(deadline_s=settings.request_deadline_s, max_token_passes=settings.max_token_passes)
        events: asyncio.Queue = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def on_token(token) -> None:
            loop.call_soon_threadsafe(events.put_nowait, {"event": "token", "token": token.model_dump(mode="json")})

        async def produce() -> None:
            watcher = asyncio.create_task(cancel_on_disconnect(http_request, budget))
            try:
                analysis = await run_in_threadpool(run_under, budget, client.stream_text, request, on_token,
                                                   stop.is_set)
                events.put_nowait({"event": "analysis", "analysis": analysis.model_dump(mode="json")})
            except Exception as exc:  # reported as the stream's last event
                events.put_nowait(error_event(exc))
            finally:
                watcher.cancel()
                stops.pop(stream_id, None)
                await slot.__aexit__(None, None, None)
                events.put_nowait(None)

        worker = asyncio.create_task(produce())
        working.add(worker)
        worker.add_done_callback(working.discard)

        async def body() -> AsyncIterator[bytes]:
            try:
                yield line({"event": "started", "stream_id": stream_id})
                while (event := await events.get()) is not None:
                    yield line(event)
            finally:
                budget.cancel("the client closed the stream")  # no-op once done; else stops at the next token

        return StreamingResponse(body(), media_type=NDJSON)

    @app.post(STOP_PATH, dependencies=dependencies, tags=["analyses"], responses={404: {}, 422: {}})
    async def stop_stream(request: StreamStop) -> StreamStopped:
        """End a live generation after its current token; its stream then sends the analysis of the tokens so
        far (stop_reason "stopped"). 404 when no stream of that id is generating (unknown, or already done)."""
        stop = stops.get(request.stream_id)
        if stop is None:
            raise ItemNotFoundError(f"no live generation with stream_id {request.stream_id[:64]!r} is running; "
                                    f"it may have finished already")
        stop.set()
        return StreamStopped(stream_id=request.stream_id, stopping=True)
