"""`python -m backend serve`: the HTTP backend (see backend.service.app).

A bind address other machines can reach needs UQLENS_API_TOKEN: without it the command refuses to start (exit 2)
unless --allow-no-token is given, and then it warns on every start.
"""
from __future__ import annotations

import argparse
import ipaddress
import sys

from backend.errors import UserInputError

NAME = "serve"
NO_TOKEN_WARNING = ("WARNING: serving on {host} without UQLENS_API_TOKEN (--allow-no-token): anyone who can reach "
                    "port {port} can run the models, read and delete saved analyses and upload datasets. Use this "
                    "only on a private network or behind a proxy that authenticates.")


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the command and its options."""
    serve = commands.add_parser(NAME, help="run the HTTP backend (FastAPI) for a separate front end")
    serve.add_argument("--host", default="127.0.0.1",
                       help="bind address; 0.0.0.0 to accept other machines (needs UQLENS_API_TOKEN)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--allow-no-token", action="store_true",
                       help="start on a non-loopback address without UQLENS_API_TOKEN (warns; private networks only)")


def is_loopback(host: str) -> bool:
    """Whether a bind address is reachable from this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to any interface
        return False


def check_exposure(host: str, port: int, token: str | None, allow_no_token: bool) -> str | None:
    """None when the bind is safe as configured, the warning to print when it is allowed without a token;
    UserInputError (exit 2) for a non-loopback bind without a token or the flag."""
    if token is not None or is_loopback(host):
        return None
    if not allow_no_token:
        raise UserInputError(f"refusing to serve on {host} without a token: anyone who can reach port {port} could "
                             f"run the models and read saved analyses. Set UQLENS_API_TOKEN (clients send it as "
                             f"Authorization: Bearer ...), bind --host 127.0.0.1, or pass --allow-no-token on a "
                             f"private network")
    return NO_TOKEN_WARNING.format(host=host, port=port)


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted."""
    from backend.service.settings import ServiceSettings

    try:
        settings = ServiceSettings.from_env()
    except ValueError as exc:
        raise UserInputError(f"{exc}; fix the environment variable") from None
    warning = check_exposure(args.host, args.port, settings.api_token, args.allow_no_token)
    if warning:
        print(warning, file=sys.stderr)

    import uvicorn

    from backend.service.app import create_app

    uvicorn.run(create_app(settings=settings), host=args.host, port=args.port, log_level="info",
                timeout_graceful_shutdown=10)
    return 0
