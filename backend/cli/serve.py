"""`python -m backend serve`: the HTTP backend (see backend.service.app)."""
from __future__ import annotations

import argparse

NAME = "serve"


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the command and its options."""
    serve = commands.add_parser(NAME, help="run the HTTP backend (FastAPI) for a separate front end")
    serve.add_argument("--host", default="127.0.0.1", help="bind address; 0.0.0.0 to accept other machines")
    serve.add_argument("--port", type=int, default=8000)


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted."""
    import uvicorn

    from backend.service.app import create_app

    uvicorn.run(create_app(), host=args.host, port=args.port, log_level="info", timeout_graceful_shutdown=10)
    return 0
