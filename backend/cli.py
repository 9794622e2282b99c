"""Command line for scripting and checks.

  python -m backend text "PROMPT" [--max-new-tokens N] [--json] [--no-chat-template] [--sample ...]
  python -m backend text "PROMPT" --answer "TEXT"      score a given answer without generating
  python -m backend models                             list registered model ids
  python -m backend prepare                            convert / cache the default models (done by make setup)
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Optional, Sequence

from pydantic import ValidationError

from backend.errors import ModelLoadError, UserInputError
from backend.models.registry import UnknownModelError
from backend.schemas import DEFAULT_TEXT_MODEL, TextAnalysis, TextRequest

EXIT_BAD_INPUT = 2
EXIT_MODEL = 3


def build_parser() -> argparse.ArgumentParser:
    """The argparse tree of all sub-commands."""
    parser = argparse.ArgumentParser(prog="python -m backend", description="UQ Lens backend command line")
    commands = parser.add_subparsers(dest="command", required=True)

    text = commands.add_parser("text", help="token-level uncertainty of a generated or given answer")
    text.add_argument("prompt")
    text.add_argument("--model", default=DEFAULT_TEXT_MODEL, help="registered model id (see `models`)")
    text.add_argument("--max-new-tokens", type=int, default=64)
    text.add_argument("--answer", help="score this answer instead of generating one")
    text.add_argument("--no-chat-template", dest="chat_template", action="store_false", default=None,
                      help="score the raw prompt, without the model's chat template")
    text.add_argument("--sample", dest="do_sample", action="store_true", help="sample instead of greedy decoding")
    text.add_argument("--temperature", type=float, default=1.0)
    text.add_argument("--top-p", type=float, default=1.0)
    text.add_argument("--seed", type=int, default=0)
    text.add_argument("--top-k", type=int, default=5, help="alternatives reported per token")
    text.add_argument("--json", action="store_true", help="print one JSON object")

    commands.add_parser("models", help="list registered models")
    commands.add_parser("prepare", help="convert and cache the default models")
    return parser


def format_table(result: TextAnalysis) -> str:
    """A human-readable table of the answer's tokens."""
    lines = [f"model: {result.model}   stop: {result.stop_reason}   {result.seconds:.2f} s",
             f"answer: {result.generated_text}", "",
             f"{'pos':>5} {'token':<18} {'prob':>7} {'entropy':>8} {'rank':>5}  top alternatives"]
    for t in result.tokens:
        alts = ", ".join(f"{a.text!r} {a.prob:.2f}" for a in t.top_k[:3])
        lines.append(f"{t.position:>5} {t.text!r:<18} {t.prob:>7.3f} {t.entropy:>8.3f} {t.rank:>5}  {alts}")
    lines += [""] + [f"{s.label}: {s.value:.4f} (higher = more {s.higher_is})" for s in result.summaries]
    return "\n".join(lines)


def run_text(args: argparse.Namespace) -> int:
    """The `text` command."""
    from transformers.utils import logging as hf_logging

    from backend.client import LocalClient

    hf_logging.disable_progress_bar()

    request = TextRequest(model=args.model, prompt=args.prompt, answer=args.answer, chat_template=args.chat_template,
                          max_new_tokens=args.max_new_tokens, do_sample=args.do_sample, temperature=args.temperature,
                          top_p=args.top_p, seed=args.seed, top_k=args.top_k)
    result = LocalClient().analyze_text(request)
    print(result.model_dump_json(indent=None) if args.json else format_table(result))
    return 0


def run_models() -> int:
    """The `models` command."""
    from backend.client import LocalClient

    for info in LocalClient().models():
        print(f"{info.id:<28} {info.kind:<10} {'(default) ' if info.default else ''}{info.description}")
    return 0


def run_prepare() -> int:
    """The `prepare` command."""
    from backend.prepare import prepare_defaults

    for line in prepare_defaults():
        print(line)
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point; returns the exit status (2 bad input, 3 model could not load)."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "text":
            return run_text(args)
        if args.command == "models":
            return run_models()
        return run_prepare()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'input'}: {e['msg']}" for e in exc.errors())
        print(f"error: {problems}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (UserInputError, UnknownModelError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ModelLoadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_MODEL


if __name__ == "__main__":
    sys.exit(main())
