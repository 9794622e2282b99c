"""Command line for scripting and checks: `python -m backend COMMAND`.

  text "PROMPT" [--max-new-tokens N] [--json] [--no-chat-template] [--sample ...] [--answer TEXT]
       [--methods all|M1,M2 --samples K --sample-temperature T]   adds sequence-level "scores"
  models                             list registered model ids
  prepare                            convert / cache the default models (done by make setup)
  serve [--host H] [--port P] [--allow-no-token]   the HTTP backend (a non-loopback host needs UQLENS_API_TOKEN)
  image PATH|sample:NAME [--json] [--saliency METHOD] [--target top|entropy|INDEX] [--uncertainty mc_dropout|tta]
  audit [--dataset D] [--methods M1,M2] [--limit N] [--concurrency C] [--json OUT.json] [--html REPORT.html]
                                     resumable audit (C requests in flight to a served model)
  compare "PROMPT" [--models A [B]] [--temperatures T [T]] [--chat-template on|off [on|off]] [--json]
                                     two models or settings side by side, each scoring the other's answer
  audit-compare AUDIT_A AUDIT_B [--method-a M] [--method-b M] [--n-boot N] [--seed S] [--json OUT.json|-]
                                     two kept audits of one dataset (or two methods of one) compared: metric
                                     differences with paired-bootstrap intervals (--list: the kept audits)
  import-logs FILE [--json] [--methods M1,M2|all] [--vocab-size V]   show and score logged responses with
                                     log-probabilities (OpenAI / vLLM formats, JSONL), no model loaded

Exit status: 0 ok, 2 bad input (the message says what to change), 3 a model could not be loaded, 4 a serving
engine (or the database) went away mid-audit (the items finished so far are kept; running it again resumes).
"""
from __future__ import annotations

import argparse
import sys
from typing import Callable, Optional, Sequence

from pydantic import ValidationError

from backend.cli import audit, audit_compare, compare, image, import_logs, models, serve, text
from backend.errors import ModelLoadError, UserInputError

EXIT_BAD_INPUT = 2
EXIT_MODEL = 3
RUNNERS: dict[str, Callable[[argparse.Namespace], int]] = {
    text.NAME: text.run,
    "models": models.run_models,
    "prepare": models.run_prepare,
    serve.NAME: serve.run,
    image.NAME: image.run,
    audit.NAME: audit.run,
    import_logs.NAME: import_logs.run,
    compare.NAME: compare.run,
    audit_compare.NAME: audit_compare.run,
}


def build_parser() -> argparse.ArgumentParser:
    """The argparse tree of all sub-commands."""
    parser = argparse.ArgumentParser(prog="python -m backend", description="UQ Lens backend command line")
    commands = parser.add_subparsers(dest="command", required=True)
    text.add_parser(commands)
    models.add_parsers(commands)
    serve.add_parser(commands)
    image.add_parser(commands)
    audit.add_parser(commands)
    import_logs.add_parser(commands)
    compare.add_parser(commands)
    audit_compare.add_parser(commands)
    return parser


def validation_message(exc: ValidationError) -> str:
    """One line naming each invalid field and what is wrong with it."""
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'input'}: {e['msg']}" for e in exc.errors())


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return RUNNERS[args.command](args)
    except ValidationError as exc:
        print(f"error: {validation_message(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except UserInputError as exc:  # an unknown model id (UnknownModelError) too
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ModelLoadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_MODEL
