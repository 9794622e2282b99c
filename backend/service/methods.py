"""OPTIONS and 405 that list every method a path serves.

Starlette answers a method a path lacks from the first route whose path matches, so /v1/saved/{item_id} (one
route for GET, one for DELETE) said `Allow: GET`, and OPTIONS got 405. This middleware answers OPTIONS with 204
and a wrong method with 405, both with the Allow header of all the routes on that path.
"""
from __future__ import annotations

import json
from typing import Callable, Iterable

from starlette.routing import BaseRoute, Match


def allowed_methods(routes: Iterable[BaseRoute], scope: dict) -> list[str]:
    """The methods the routes whose path matches scope's path serve, sorted, OPTIONS included; [] for none."""
    methods: set[str] = set()
    for route in routes:
        route_methods = getattr(route, "methods", None)
        if route_methods and route.matches({**scope, "method": next(iter(route_methods))})[0] == Match.FULL:
            methods |= set(route_methods)
    return sorted(methods | {"OPTIONS"}) if methods else []


class AllowedMethodsMiddleware:
    """204 to OPTIONS and 405 to a method no route of a known path serves, with `Allow` listing them all."""

    def __init__(self, app, routes: Callable[[], Iterable[BaseRoute]]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        allowed = allowed_methods(self.routes(), scope)
        method = scope.get("method", "")
        if not allowed or (method in allowed and method != "OPTIONS"):
            await self.app(scope, receive, send)
            return
        allow = (b"allow", ", ".join(allowed).encode())
        if method == "OPTIONS":
            await send({"type": "http.response.start", "status": 204, "headers": [allow]})
            await send({"type": "http.response.body", "body": b""})
            return
        body = json.dumps({"detail": f"{method} is not served on {scope.get('path', '')[:200]}; use "
                                     f"{', '.join(m for m in allowed if m != 'OPTIONS')}"}).encode()
        await send({"type": "http.response.start", "status": 405,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                allow]})
        await send({"type": "http.response.body", "body": body})
