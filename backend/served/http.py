"""An OpenAI-compatible HTTP client for one served model: time-outs, retries with backoff, clear errors.

Every failure becomes one of backend.errors' types with a message that says what to change:
- the server cannot be reached or does not answer in time: BackendUnavailableError,
- 429 / 503 after the retries: BackendBusyError (rate limit; retry_after_s set) / BackendUnavailableError,
- a model name the server does not serve: UserInputError listing the names it does serve,
- a refused key, a bad request: UserInputError (the key itself never appears: only its variable's name).
"""
from __future__ import annotations

import email.utils
import json
import os
import time
from typing import Any, Callable, Iterator, Optional

import httpx

from backend.errors import BackendBusyError, BackendUnavailableError, UserInputError
from backend.served.config import ServedModel

RETRY_STATUSES = (429, 503)
ERROR_TEXT_CHARS = 300


def retry_after_seconds(header: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """Seconds to wait from a Retry-After header (a number of seconds or an HTTP date), None when absent or
    unreadable; never negative."""
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(header).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


def backoff_delay(attempt: int, retry_after: Optional[float], backoff_s: float) -> float:
    """The wait (s) before retry number `attempt` (0-based): Retry-After when given, else backoff_s * 2**attempt."""
    return retry_after if retry_after is not None else backoff_s * 2 ** attempt


def server_message(response: httpx.Response) -> str:
    """The error text a server put in its body (OpenAI's {"error": {"message"}} or vLLM's {"message"}), short."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:ERROR_TEXT_CHARS]
    error = body.get("error", body) if isinstance(body, dict) else body
    message = error.get("message", error) if isinstance(error, dict) else error
    return str(message)[:ERROR_TEXT_CHARS]


class OpenAIClient:
    """Talks to one ServedModel's server. Thread-safe (one httpx.Client); close() when done.

    transport and sleep are for tests (httpx.MockTransport, a fake clock); real use passes neither.
    """

    def __init__(self, spec: ServedModel, transport: Optional[httpx.BaseTransport] = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.spec = spec
        self._sleep = sleep
        timeout = httpx.Timeout(spec.read_timeout_s, connect=spec.connect_timeout_s)
        self._http = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False)

    def __repr__(self) -> str:
        return f"OpenAIClient({self.spec!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "OpenAIClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _headers(self) -> dict[str, str]:
        key = self.spec.api_key()
        return {"Authorization": f"Bearer {key}"} if key else {}

    def _scrub(self, text: str) -> str:
        """text with the API key blanked out, should a server echo it back."""
        key = os.environ.get(self.spec.api_key_env) if self.spec.api_key_env else None
        return text.replace(key, "***") if key else text

    def _send(self, method: str, url: str, body: Optional[dict]) -> httpx.Response:
        """One request, network failures turned into BackendUnavailableError naming the server."""
        try:
            return self._http.request(method, url, json=body, headers=self._headers())
        except httpx.ConnectError as exc:
            raise BackendUnavailableError(
                f"cannot reach the server of {self.spec.label} ({type(exc).__name__}); check that it is running "
                f"and that the location is right") from None
        except httpx.TimeoutException as exc:
            raise BackendUnavailableError(
                f"the server of {self.spec.label} did not answer in time ({type(exc).__name__}; connect "
                f"{self.spec.connect_timeout_s:g} s, read {self.spec.read_timeout_s:g} s); it may be overloaded "
                f"or still starting: retry, or raise the time-outs") from None
        except httpx.TransportError as exc:
            raise BackendUnavailableError(
                f"the connection to the server of {self.spec.label} failed ({type(exc).__name__}); retry") from None

    def request(self, method: str, url: str, body: Optional[dict] = None) -> Any:
        """The JSON answer of `method url`, retrying 429 / 503 with backoff (Retry-After honoured)."""
        for attempt in range(self.spec.max_retries + 1):
            response = self._send(method, url, body)
            if response.status_code not in RETRY_STATUSES:
                break
            wait = backoff_delay(attempt, retry_after_seconds(response.headers.get("retry-after")),
                                 self.spec.backoff_s)
            if attempt == self.spec.max_retries or wait > self.spec.max_wait_s:
                break
            self._sleep(wait)
        return self._answer(response, body, attempt)

    def _answer(self, response: httpx.Response, body: Optional[dict], retries: int) -> Any:
        """The JSON body of a final response (after `retries` retries), or the clear error its status stands for."""
        status = response.status_code
        if status < 400:
            try:
                return response.json()
            except ValueError:
                raise BackendUnavailableError(f"the server of {self.spec.label} answered {status} with a body "
                                              f"that is not JSON; is the location an OpenAI-compatible /v1?") from None
        detail = self._scrub(server_message(response))
        if status == 429:
            wait = retry_after_seconds(response.headers.get("retry-after")) or self.spec.backoff_s
            raise BackendBusyError(f"the server of {self.spec.label} is rate-limiting these requests (429) after "
                                   f"{retries} retries; wait {wait:g} s or lower the concurrency",
                                   retry_after_s=wait)
        if status == 503:
            raise BackendUnavailableError(f"the server of {self.spec.label} is unavailable (503) after "
                                          f"{retries} retries: {detail}")
        if status in (401, 403):
            source = f"the environment variable {self.spec.api_key_env}" if self.spec.api_key_env else "no key"
            raise UserInputError(f"the server of {self.spec.label} refused the request ({status}); the API key "
                                 f"comes from {source}: check it")
        if status == 404 and body is not None and body.get("model") == self.spec.model:
            self.check_model()
        if status == 404:
            raise UserInputError(f"the server of {self.spec.label} has no {response.request.url.path} ({status}); "
                                 f"this needs {'vLLM' if self.spec.engine == 'vllm' else 'another endpoint'}")
        if status < 500:
            raise UserInputError(f"the server of {self.spec.label} refused the request ({status}): {detail}")
        raise BackendUnavailableError(f"the server of {self.spec.label} failed ({status}): {detail}")

    def get(self, path: str) -> Any:
        """GET location + path (path starts with /)."""
        return self.request("GET", self.spec.location + path)

    def post(self, path: str, body: dict) -> Any:
        """POST a JSON body to location + path."""
        return self.request("POST", self.spec.location + path, body)

    def post_stream(self, path: str, body: dict) -> Iterator[dict]:
        """POST a JSON body (with "stream": true) to location + path and yield each server-sent event's JSON object
        as it comes, until [DONE]; no retries. Leaving the loop early closes the connection (the server stops)."""
        try:
            with self._http.stream("POST", self.spec.location + path, json=body, headers=self._headers()) as response:
                if response.status_code >= 400:
                    response.read()
                    self._answer(response, body, 0)
                for line in response.iter_lines():
                    data = line[len("data:"):].strip() if line.startswith("data:") else ""
                    if data == "[DONE]":
                        return
                    if data:
                        yield json.loads(data)
        except httpx.TimeoutException as exc:
            raise BackendUnavailableError(f"the server of {self.spec.label} stopped sending in time "
                                          f"({type(exc).__name__}); retry, or raise the time-outs") from None
        except httpx.TransportError as exc:
            raise BackendUnavailableError(f"the stream from the server of {self.spec.label} failed "
                                          f"({type(exc).__name__}); check that it is running, and retry") from None

    def post_root(self, path: str, body: dict) -> Any:
        """POST to one of vLLM's own endpoints beside /v1 (e.g. /tokenize)."""
        return self.request("POST", self.spec.server_root + path, body)

    def models(self) -> list[dict]:
        """The server's /v1/models entries (each has "id"; vLLM adds "max_model_len")."""
        data = self.get("/models")
        return list(data.get("data", [])) if isinstance(data, dict) else []

    def check_model(self) -> dict:
        """The /v1/models entry of this spec's model; UserInputError listing the served names when absent."""
        entries = self.models()
        for entry in entries:
            if entry.get("id") == self.spec.model:
                return entry
        names = ", ".join(repr(e.get("id")) for e in entries) or "none"
        raise UserInputError(f"the server at {self.spec.location} does not serve a model named {self.spec.model!r}; "
                             f"it serves {names}: set `model` to one of them")
