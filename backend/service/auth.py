"""Bearer-token check as the outermost ASGI middleware: a request without the token is refused before any of its
body is read or parsed, and it covers every path (the API, /docs, /redoc, /openapi.json) but the health probes."""
from __future__ import annotations

import hmac
import json

OPEN_PATHS = frozenset({"/livez", "/readyz"})
REFUSAL = ("missing or wrong bearer token: send the header Authorization: Bearer <token>, the UQLENS_API_TOKEN the "
           "service was started with")


def bearer_token(headers: list[tuple[bytes, bytes]]) -> bytes:
    """The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), or b"" without one."""
    for name, value in headers:
        if name.lower() == b"authorization":
            scheme, _, token = value.strip().partition(b" ")
            return token.strip() if scheme.lower() == b"bearer" else b""
    return b""


class TokenMiddleware:
    """401 with WWW-Authenticate for any HTTP request to a path outside OPEN_PATHS whose bearer token is not
    `token` (compared in constant time)."""

    def __init__(self, app, token: str) -> None:
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope.get("path", "") in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        if hmac.compare_digest(bearer_token(scope.get("headers") or []), self.token):
            await self.app(scope, receive, send)
            return
        body = json.dumps({"detail": REFUSAL}).encode()
        await send({"type": "http.response.start", "status": 401,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"www-authenticate", b"Bearer"), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
