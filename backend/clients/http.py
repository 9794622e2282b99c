"""HttpClient: the Client over HTTP, for a front end whose models run on another (GPU) machine.

Set UQLENS_BACKEND_URL (and UQLENS_API_TOKEN if the service has one) and the app uses this instead of running
models in-process. Errors come back as the same exceptions LocalClient raises, so pages handle both alike.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Optional, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter

from backend.clients.protocol import Client
from backend.errors import (BackendBusyError, BackendUnavailableError, ItemNotFoundError, ModelLoadError,
                            SaveConflictError, UserInputError)
from backend.models.registry import UnknownModelError
from backend.budget import checkpoint
from backend.schemas import ModelInfo, TextAnalysis, TextRequest, TokenScore
from backend.schemas.live import StreamStop
from backend.schemas.store import SavedItem, SavedSummary, SaveRequest
from backend.service.operations import Operation

DEFAULT_TIMEOUT_S = 300.0
Result = TypeVar("Result")


def raise_for_status(response: httpx.Response) -> None:
    """Turn an error response into the exception LocalClient would have raised."""
    if response.is_success:
        return
    try:
        detail = response.json().get("detail", response.text)
    except ValueError:
        detail = response.text
    if isinstance(detail, list):  # pydantic validation errors
        detail = "; ".join(f"{'.'.join(map(str, e.get('loc', [])[1:]))}: {e.get('msg')}" for e in detail)
    status = response.status_code
    if status == 429:
        raise BackendBusyError(str(detail), float(response.headers.get("Retry-After", "1")))
    if status == 404:
        raise UnknownModelError.from_detail(str(detail)) or ItemNotFoundError(str(detail))
    if status == 409:
        raise SaveConflictError(str(detail))
    if status in (400, 413, 422):
        raise UserInputError(str(detail))
    if status == 503 and "could not load model" in str(detail):
        raise ModelLoadError(str(detail))
    if status in (401, 403):
        raise BackendUnavailableError(f"the backend refused the token ({status}): set UQLENS_API_TOKEN")
    raise BackendUnavailableError(f"the backend answered {status}: {detail}")


class HttpClient(Client):
    """Talks to `python -m backend serve` at base_url."""

    def __init__(self, base_url: str, *, token: Optional[str] = None, timeout_s: float = DEFAULT_TIMEOUT_S,
                 transport: Optional[httpx.BaseTransport] = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout_s,
                                  transport=transport)

    def _call(self, method: str, path: str, result_type: type[Result], *, body: Optional[BaseModel] = None,
              params: Optional[dict] = None) -> Result:
        """One request; the response parsed as result_type, errors raised as the backend's exceptions."""
        try:
            response = self._http.request(method, path, params=params,
                                          content=body.model_dump_json() if body is not None else None,
                                          headers={"Content-Type": "application/json"} if body is not None else None)
        except httpx.TransportError as exc:
            raise BackendUnavailableError(f"cannot reach the backend at {self._http.base_url}: {exc}") from exc
        raise_for_status(response)
        return TypeAdapter(result_type).validate_json(response.content) if result_type is not type(None) else None

    def call(self, operation: Operation, *arguments: Any) -> Any:
        """Call the service route of one row of the operations table: POST the request as its JSON body, or GET
        with the row's query parameter set to the argument (or without parameters)."""
        if operation.request_type is not None:
            return self._call("POST", operation.path, operation.response_type, body=arguments[0])
        params = {operation.query: arguments[0]} if operation.query else None
        return self._call("GET", operation.path, operation.response_type, params=params)

    def stream_text(self, request: TextRequest, on_token: Optional[Callable[[TokenScore], None]] = None,
                    should_stop: Optional[Callable[[], bool]] = None) -> TextAnalysis:
        """POST /v1/text/stream, reading its NDJSON events (backend.service.text_stream): on_token for each token,
        should_stop() asked after each event (True: POST /v1/text/stream/stop once, then the analysis of the tokens so
        far comes); a cancelled budget (backend.budget) closes the connection, which cancels the work."""
        stream_id, stop_sent = None, False
        try:
            with self._http.stream("POST", "/v1/text/stream", content=request.model_dump_json(),
                                   headers={"Content-Type": "application/json"}) as response:
                if not response.is_success:
                    response.read()
                    raise_for_status(response)
                for text in response.iter_lines():
                    event = json.loads(text) if text.strip() else {}
                    kind = event.get("event")
                    if kind == "started":
                        stream_id = event["stream_id"]
                    elif kind == "token" and on_token is not None:
                        on_token(TokenScore.model_validate(event["token"]))
                    elif kind == "analysis":
                        return TextAnalysis.model_validate(event["analysis"])
                    elif kind == "error":
                        raise_for_status(httpx.Response(event["status"], json={"detail": event["detail"]}))
                    checkpoint()
                    if stream_id and not stop_sent and should_stop is not None and should_stop():
                        stop_sent = True
                        self._stop_stream(stream_id)
        except httpx.TransportError as exc:
            raise BackendUnavailableError(f"the stream from the backend at {self._http.base_url} broke: {exc}") from exc
        raise BackendUnavailableError("the backend's stream ended without an analysis; retry")

    def _stop_stream(self, stream_id: str) -> None:
        """Ask the backend to end a live generation early (a stream that already finished is no error)."""
        try:
            self._call("POST", "/v1/text/stream/stop", type(None), body=StreamStop(stream_id=stream_id))
        except ItemNotFoundError:
            pass

    def ready(self) -> bool:
        """Whether the service has its models loaded."""
        try:
            return self._http.get("/readyz").status_code == 200
        except httpx.TransportError:
            return False

    def models(self) -> list[ModelInfo]:
        return self._call("GET", "/v1/models", list[ModelInfo])

    def save(self, request: SaveRequest) -> SavedItem:
        return self._call("POST", "/v1/saved", SavedItem, body=request)

    def list_saved(self, *, query: str = "", tag: str = "", kind: str = "", limit: int = 100,
                   offset: int = 0) -> list[SavedSummary]:
        return self._call("GET", "/v1/saved", list[SavedSummary],
                          params=dict(q=query, tag=tag, kind=kind, limit=limit, offset=offset))

    def saved_kinds(self) -> list[str]:
        return self._call("GET", "/v1/saved-kinds", list[str])

    def get_saved(self, item_id: str) -> Optional[SavedItem]:
        try:
            return self._call("GET", f"/v1/saved/{quote(item_id, safe='')}", SavedItem)
        except ItemNotFoundError:
            return None

    def delete_saved(self, item_id: str) -> bool:
        try:
            self._call("DELETE", f"/v1/saved/{quote(item_id, safe='')}", type(None))
        except ItemNotFoundError:
            return False
        return True
