"""FastAPI service: the in-process client's operations over HTTP, with admission control, limits and a token.

Start it with `python -m backend serve` (the Procfile's `api` process); OpenAPI docs at /docs and /redoc.
Audits run one batch per request (POST /v1/audit/batch until done == total), so no request holds the model for
long and a stopped audit resumes; datasets are built in or uploaded first (POST /v1/audit/datasets).
Status codes: 401 missing/wrong token (every path but /livez and /readyz, checked before the body is read), 404
unknown model or saved item, 405 method not served (Allow lists those that are), 409 save id reused, 413 body too
large, 422 invalid input (the detail names the field or header and says what to change), 429 busy (with
Retry-After), 503 not ready / model failed to load / out of GPU memory / database unreachable.
"""
from __future__ import annotations

import inspect
import logging
import math
import threading
import time
from contextlib import asynccontextmanager
from typing import AsyncIterator, Callable, Optional

from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend.audit.datasets import is_image_dataset
from backend.audit.uploads import check_served_dataset
from backend.budget import SECONDS_PER_TOKEN_PASS, WorkCancelled
from backend.clients.local import LocalClient
from backend.errors import (BackendBusyError, BackendUnavailableError, ItemNotFoundError, ModelLoadError,
                            SaveConflictError, StoreUnavailableError, UserInputError)
from backend.models.registry import UnknownModelError
from backend.schemas import ModelInfo
from backend.schemas.audit import BUILTIN_DIGITS
from backend.schemas.store import SavedItem, SavedSummary, SaveRequest
from backend.service.admission import Admission, Admissions
from backend.service.auth import TokenMiddleware
from backend.service.body_limit import BodyLimitMiddleware
from backend.service.json_body import StrictJSONRoute
from backend.service.methods import AllowedMethodsMiddleware
from backend.service.openapi import install_openapi
from backend.service.operations import OPERATIONS, UPLOAD_PATHS, Operation, audit_requests_in, text_requests_in
from backend.service.refusals import http_refusal, invalid_request
from backend.service.settings import ServiceSettings
from backend.service.text_stream import add_stream_routes
from backend.service.work import run_budgeted

log = logging.getLogger(__name__)
bearer = HTTPBearer(auto_error=False, description="UQLENS_API_TOKEN; checked before the body is read")


def unknown_saved_item(item_id: str) -> ItemNotFoundError:
    """The 404 error for an id no saved item has."""
    return ItemNotFoundError(f"no saved item with id {item_id[:64]!r}")


DATABASE_CHECK_S = 2.0  # /readyz pings the database at most this often (a burst of probes asks it once)


class Readiness:
    """Whether the preloaded model is in memory and the database of saved analyses answers (readyz answers 503
    until both hold); `ping` raises when the database is unreachable and is asked at most every check_every_s."""

    def __init__(self, ping: Optional[Callable[[], None]] = None, check_every_s: float = DATABASE_CHECK_S) -> None:
        self.ready = threading.Event()
        self.error: Optional[str] = None
        self._ping = ping
        self._check_every_s = check_every_s
        self._checked_at = -math.inf
        self._database_error: Optional[str] = None
        self._lock = threading.Lock()

    def database_error(self) -> Optional[str]:
        """None when the database answered its last ping (at most check_every_s seconds old), else why not."""
        if self._ping is None:
            return None
        with self._lock:
            if time.monotonic() - self._checked_at >= self._check_every_s:
                try:
                    self._ping()
                    self._database_error = None
                except Exception as exc:  # StoreUnavailableError, or whatever else keeps the database from answering
                    self._database_error = str(exc) if isinstance(exc, StoreUnavailableError) else repr(exc)
                self._checked_at = time.monotonic()
            return self._database_error


def preload(client: LocalClient, model_id: Optional[str], readiness: Readiness) -> None:
    """Load the default text model in the background so /readyz turns 200 when it is usable."""
    try:
        if model_id:
            client.engine.text_model(model_id)
        client.store.integrity_ok()
        readiness.ready.set()
    except Exception as exc:  # reported by /readyz; the service stays up to say so
        readiness.error = f"{type(exc).__name__}: {exc}"
        log.exception("preload failed")


def out_of_memory_types() -> tuple[type, ...]:
    """torch's CUDA out-of-memory error type, when torch is importable."""
    import torch

    return (torch.cuda.OutOfMemoryError,)


def install_error_handlers(app: FastAPI, client: LocalClient, settings: ServiceSettings) -> None:
    """Map the backend's errors to status codes with a `detail` that says what to change (an unknown model id is
    a UserInputError, but answers 404: handlers go by the error's most specific class). Out of GPU memory, the
    client's model pool lets its kept tensors go first."""
    def handler(status: int, headers: Optional[dict] = None):
        async def respond(_request: Request, exc: Exception) -> JSONResponse:
            return JSONResponse({"detail": str(exc)}, status_code=status, headers=headers)
        return respond

    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(StarletteHTTPException, http_refusal)
    app.add_exception_handler(UserInputError, handler(422))
    app.add_exception_handler(UnknownModelError, handler(404))
    app.add_exception_handler(ItemNotFoundError, handler(404))
    app.add_exception_handler(SaveConflictError, handler(409))
    app.add_exception_handler(ModelLoadError, handler(503))
    app.add_exception_handler(BackendUnavailableError, handler(503))
    app.add_exception_handler(StoreUnavailableError, handler(503, {"Retry-After": str(settings.retry_after_s)}))
    app.add_exception_handler(WorkCancelled, handler(503))

    async def busy(_request: Request, exc: BackendBusyError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=429,
                            headers={"Retry-After": str(math.ceil(exc.retry_after_s))})

    app.add_exception_handler(BackendBusyError, busy)

    async def out_of_memory(_request: Request, _exc: Exception) -> JSONResponse:
        import torch

        client.engine.pool.clear_caches()
        torch.cuda.empty_cache()
        return JSONResponse({"detail": "the GPU ran out of memory; retry with a shorter input or fewer samples"},
                            status_code=503, headers={"Retry-After": str(settings.retry_after_s)})

    for error_type in out_of_memory_types():
        app.add_exception_handler(error_type, out_of_memory)


def check_work_caps(request, settings: ServiceSettings) -> None:
    """Refuse work larger than the service allows (422): generation longer than max_new_tokens wherever a
    TextRequest sits in the request or an audit answers questions; audit batches over max_audit_batch, and audit
    datasets that name a path on this machine instead of a built-in or uploaded one."""
    for text_request in text_requests_in(request):
        if text_request.max_new_tokens > settings.max_new_tokens:
            raise UserInputError(f"max_new_tokens is {text_request.max_new_tokens}; this service allows at most "
                                 f"{settings.max_new_tokens}")
    for audit in audit_requests_in(request):
        check_served_dataset(audit.dataset)
        answers_questions = audit.dataset != BUILTIN_DIGITS and not is_image_dataset(audit.dataset)
        if answers_questions and audit.max_new_tokens > settings.max_new_tokens:
            raise UserInputError(f"max_new_tokens is {audit.max_new_tokens}; this service allows at most "
                                 f"{settings.max_new_tokens}")
        if audit.batch_size > settings.max_audit_batch:
            raise UserInputError(f"batch_size is {audit.batch_size}; this service computes at most "
                                 f"{settings.max_audit_batch} audit items per request")


def add_operation_route(app: FastAPI, operation: Operation, client: LocalClient, admissions: Admissions,
                        settings: ServiceSettings, dependencies: list) -> None:
    """Serve one Client method: POST with its request model as the JSON body, or GET (with an optional query)."""
    method = getattr(client, operation.method_name)

    async def run(*args, http_request: Optional[Request] = None):
        if not operation.heavy:
            return await run_in_threadpool(method, *args)
        admission = admissions.of(args[0], client.engine.pool.is_served) if args else admissions.in_process
        return await run_budgeted(method, args, http_request, admission, settings.request_deadline_s,
                                  settings.max_token_passes)

    if operation.request_type is not None:
        async def endpoint(request, http_request: Request):
            check_work_caps(request, settings)
            return await run(request, http_request=http_request)
        parameter = inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                      annotation=operation.request_type)
    elif operation.query:
        async def endpoint(value):
            return await run(value)
        parameter = inspect.Parameter(operation.query, inspect.Parameter.KEYWORD_ONLY, annotation=str,
                                      default=Query(..., min_length=1, max_length=200))
        endpoint = rename_keyword(endpoint, operation.query)
    else:
        async def endpoint():
            return await run()
        parameter = None
    parameters = [parameter] if parameter else []
    if operation.request_type is not None:
        parameters.append(inspect.Parameter("http_request", inspect.Parameter.KEYWORD_ONLY, annotation=Request))
    endpoint.__signature__ = inspect.Signature(parameters, return_annotation=operation.response_type)
    endpoint.__name__ = operation.method_name
    endpoint.__doc__ = operation.doc
    app.add_api_route(operation.path, endpoint, methods=["POST" if operation.request_type else "GET"],
                      response_model=operation.response_type, dependencies=dependencies, tags=["analyses"],
                      responses={404: {}, 413: {}, 422: {}, 429: {}, 503: {}})


def rename_keyword(function, name: str):
    """Wrap a one-argument coroutine function so it takes that argument under keyword `name`."""
    async def renamed(**kwargs):
        return await function(kwargs[name])
    return renamed


def create_app(client: Optional[LocalClient] = None, settings: Optional[ServiceSettings] = None) -> FastAPI:
    """The service around one in-process client (engine + store)."""
    settings = settings or ServiceSettings.from_env()
    client = client or LocalClient()
    admissions = Admissions(
        in_process=Admission(settings.max_running, settings.max_waiting, settings.retry_after_s,
                             max_queued_cost=settings.max_queued_cost, seconds_per_token_pass=SECONDS_PER_TOKEN_PASS),
        served=Admission(settings.max_served_running, settings.max_served_waiting, settings.retry_after_s))
    readiness = Readiness(ping=lambda: client.store.ping())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        """Preload the default text model in the background while the service starts answering."""
        threading.Thread(target=preload, args=(client, settings.preload_model, readiness), daemon=True).start()
        yield

    app = FastAPI(title="UQ Lens backend", version="1", description=__doc__, lifespan=lifespan)
    app.router.route_class = StrictJSONRoute
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes,
                       image_max_bytes=settings.max_image_body_bytes, upload_paths=UPLOAD_PATHS)
    app.add_middleware(AllowedMethodsMiddleware, routes=lambda: app.router.routes)
    if settings.api_token is not None:  # outermost: the token is checked before the body is read
        app.add_middleware(TokenMiddleware, token=settings.api_token)
    install_error_handlers(app, client, settings)
    install_openapi(app, settings)
    guarded = [Depends(bearer)] if settings.api_token is not None else []  # declares the scheme the middleware checks

    @app.get("/livez", tags=["health"])
    def livez() -> dict:
        """The process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"],
             responses={503: {"description": "models still loading or failed, or the database unreachable"}})
    def readyz(response: Response) -> dict:
        """200 once the default model is loaded and while the database answers (pinged at most every 2 s);
        503 with the cause before, or while the database is unreachable."""
        if not readiness.ready.is_set():
            response.status_code = 503
            return {"status": "failed" if readiness.error else "loading", "detail": readiness.error}
        database_error = readiness.database_error()
        if database_error:
            response.status_code = 503
            response.headers["Retry-After"] = str(settings.retry_after_s)
            return {"status": "database unreachable", "detail": database_error}
        return {"status": "ready"}

    @app.get("/v1/models", dependencies=guarded, tags=["models"])
    def models() -> list[ModelInfo]:
        """Registered model ids."""
        return client.models()

    for operation in OPERATIONS:
        add_operation_route(app, operation, client, admissions, settings, guarded)
    add_stream_routes(app, client, admissions, settings, guarded, check_work_caps)

    @app.post("/v1/saved", dependencies=guarded, tags=["saved"], responses={409: {}})
    def save(request: SaveRequest) -> SavedItem:
        """Keep an analysis; repeating the same id returns the stored item."""
        return client.save(request)

    @app.get("/v1/saved", dependencies=guarded, tags=["saved"])
    def list_saved(q: str = Query("", max_length=200), tag: str = Query("", max_length=40),
                   kind: str = Query("", max_length=20), limit: int = Query(100, ge=1, le=500),
                   offset: int = Query(0, ge=0, le=1_000_000)) -> list[SavedSummary]:
        """Saved items, newest first; q searches title, notes, model and the saved prompts and answers."""
        return client.list_saved(query=q, tag=tag, kind=kind, limit=limit, offset=offset)

    @app.get("/v1/saved-kinds", dependencies=guarded, tags=["saved"])
    def saved_kinds() -> list[str]:
        """The kinds at least one saved item has, sorted (what a Kind filter offers)."""
        return client.saved_kinds()

    @app.get("/v1/saved/{item_id}", dependencies=guarded, tags=["saved"], responses={404: {}})
    def get_saved(item_id: str) -> SavedItem:
        """One saved item with its payload."""
        item = client.get_saved(item_id)
        if item is None:
            raise unknown_saved_item(item_id)
        return item

    @app.delete("/v1/saved/{item_id}", dependencies=guarded, tags=["saved"], status_code=204,
                responses={404: {}})
    def delete_saved(item_id: str) -> Response:
        """Remove a saved item."""
        if not client.delete_saved(item_id):
            raise unknown_saved_item(item_id)
        return Response(status_code=204)

    return app
