"""ASGI middleware that refuses request bodies over a size limit with 413, declared or streamed.

The body is read here, up to the limit, before the application sees any of it: a chunked body that grows past the
limit is answered 413 at once (raising inside the application's receive() would reach FastAPI's body parser, which
turns any exception into 400 "There was an error parsing the body").
"""
from __future__ import annotations

import json
from typing import Optional


class BodyLimitMiddleware:
    """413 for a Content-Length over the limit, or for a chunked body that grows past it. Routes under one of
    `upload_paths` (files as base64 JSON: images, audit datasets) get `image_max_bytes`, every other route
    `max_bytes`."""

    def __init__(self, app, max_bytes: int, image_max_bytes: int, upload_paths: tuple[str, ...]) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.image_max_bytes = image_max_bytes
        self.upload_paths = upload_paths

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = scope.get("path", "").startswith(self.upload_paths)
        limit = self.image_max_bytes if upload else self.max_bytes
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(send, limit, upload)
            return
        first = await read_body(receive, limit)
        if first is None:
            await self._refuse(send, limit, upload)
            return
        replayed = False

        async def replay_receive():
            nonlocal replayed
            if replayed:
                return await receive()  # after the body: http.disconnect when the client goes away
            replayed = True
            return first

        await self.app(scope, replay_receive, send)

    async def _refuse(self, send, limit: int, upload: bool) -> None:
        setting = "UQLENS_MAX_IMAGE_BODY_BYTES" if upload else "UQLENS_MAX_BODY_BYTES"
        body = json.dumps({"detail": f"the request body is over {limit} bytes, this route's limit ({setting}); "
                                     f"send a smaller body"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


async def read_body(receive, limit: int) -> Optional[dict]:
    """The whole request body as one http.request message, or None once it grows past `limit` bytes (the rest is
    left unread). A disconnect before the end is passed on as it came."""
    parts: list[bytes] = []
    seen = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return message
        chunk = message.get("body", b"")
        seen += len(chunk)
        if seen > limit:
            return None
        parts.append(chunk)
        if not message.get("more_body", False):
            return {"type": "http.request", "body": b"".join(parts), "more_body": False}
