"""`python -m backend models` and `python -m backend prepare`."""
from __future__ import annotations

import argparse


def add_parsers(commands: argparse._SubParsersAction) -> None:
    """Register both commands."""
    commands.add_parser("models", help="list registered models")
    commands.add_parser("prepare", help="convert and cache the default models")


def run_models(args: argparse.Namespace) -> int:
    """List registered models, defaults flagged, each with its engine and what it can do."""
    from backend.clients.local import LocalClient

    for info in LocalClient().models():
        print(f"{info.id:<28} {info.kind:<10} {info.engine:<11} {'(default) ' if info.default else ''}"
              f"{info.description}  [{', '.join(info.capabilities)}]")
    return 0


def run_prepare(args: argparse.Namespace) -> int:
    """Convert / check the default models, one line each."""
    from backend.models.prepare import prepare_defaults

    for line in prepare_defaults():
        print(line)
    return 0
