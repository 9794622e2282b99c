"""ASGI middleware that refuses request bodies over a size limit with 413, declared or streamed."""
from __future__ import annotations

import json


class BodyTooLarge(Exception):
    """Raised inside receive() when a streamed body passes the limit."""


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
        limit = self.image_max_bytes if scope.get("path", "").startswith(self.upload_paths) else self.max_bytes
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(send, limit)
            return
        seen = 0

        async def limited_receive():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except BodyTooLarge:
            await self._refuse(send, limit)

    async def _refuse(self, send, limit: int) -> None:
        body = json.dumps({"detail": f"request body larger than {limit} bytes; send less"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
