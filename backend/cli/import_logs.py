"""`python -m backend import-logs FILE`: responses with log-probabilities (an OpenAI chat completion, a vLLM /
OpenAI completion, a JSON array or a JSONL of them) shown and scored with no language model loaded.

Prints, per prompt, the analysed answer's tokens (probability, entropy as the midpoint of its valid bounds, rank
among the logged alternatives), the sequence scores and, for lines with a reference, the verdict; --json prints
the ImportResult (backend.schemas.imports) as one JSON object. FILE "-" reads standard input.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from backend.errors import UserInputError
from backend.imports.limits import MAX_IMPORT_BYTES
from backend.schemas.imports import DEFAULT_IMPORT_METHODS, ImportRequest, ImportResult
from backend.schemas import DEFAULT_EMBEDDING_MODEL

NAME = "import-logs"


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the command and its options."""
    command = commands.add_parser(NAME, help="show and score logged responses that carry log-probabilities")
    command.add_argument("file", help="a JSON response, a JSON array or a JSONL of responses ('-' = stdin)")
    command.add_argument("--methods", default=",".join(DEFAULT_IMPORT_METHODS),
                         help="comma-separated sequence methods, or 'all' (default: those needing only the logged "
                              "numbers)")
    command.add_argument("--vocab-size", type=int, help="the model's vocabulary size, for tighter entropy bounds")
    command.add_argument("--top-k", type=int, default=5, help="alternatives reported per token")
    command.add_argument("--embedding-model", default=DEFAULT_EMBEDDING_MODEL, help="sentence-embedding model id")
    command.add_argument("--json", action="store_true", help="print one JSON object")


def read_file(name: str) -> str:
    """The file's text (UTF-8), refused before reading when it is larger than the import limit."""
    if name == "-":
        data = sys.stdin.buffer.read(MAX_IMPORT_BYTES + 1)
    else:
        path = Path(name)
        if not path.is_file():
            raise UserInputError(f"{name}: no such file")
        if path.stat().st_size > MAX_IMPORT_BYTES:
            raise UserInputError(f"{name} is larger than {MAX_IMPORT_BYTES:,} bytes; split it into smaller JSONL "
                                 f"files")
        data = path.read_bytes()
    if len(data) > MAX_IMPORT_BYTES:
        raise UserInputError(f"the input is larger than {MAX_IMPORT_BYTES:,} bytes; split it")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise UserInputError(f"line {line}: byte 0x{data[exc.start]:02x} is not UTF-8; save the log as UTF-8") from None


def format_result(result: ImportResult) -> str:
    """A human-readable account: per group its answer, tokens, scores and verdict; then the audit."""
    lines = [f"{result.name}: {result.responses} responses, {len(result.groups)} prompts, {result.seconds:.2f} s",
             result.note]
    for group in result.groups:
        text = group.analysis.text
        lines += ["", f"== {group.sources[0]} ({len(group.sources)} answers) · model {text.model}",
                  f"prompt: {group.prompt if group.prompt is not None else '(not in the log)'}",
                  f"answer: {text.generated_text}",
                  f"{'pos':>5} {'token':<18} {'prob':>7} {'entropy':>8} {'rank':>5}"]
        for t in text.tokens:
            rank = t.rank if t.rank is not None else "beyond"
            lines.append(f"{t.position:>5} {t.text!r:<18} {t.prob:>7.3f} {t.entropy:>8.3f} {rank!s:>5}")
        for score in group.analysis.scores:
            value = "none" if score.value is None else f"{score.value:.4f}"
            lines.append(f"{score.label}: {value} (higher = more {score.higher_is})")
        for name, why in group.analysis.left_out.items():
            lines.append(f"left out {name}: {why}")
        if group.correct is not None:
            lines.append(f"reference: {group.reference} -> {'right' if group.correct else 'wrong'} "
                         f"({group.grading_reason})")
    if result.audit:
        audit = result.audit
        lines += ["", f"audit: {audit.correct} of {audit.graded} right ({audit.accuracy:.1%})"]
        lines += [f"  {m.label}: error-detection AUROC {'n/a' if m.auroc is None else f'{m.auroc:.3f}'} "
                  f"over {m.scored}" for m in audit.methods]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run the command; returns the exit status."""
    from backend.clients.local import LocalClient

    request = ImportRequest(content=read_file(args.file), name=Path(args.file).name if args.file != "-" else "stdin",
                            methods=args.methods.split(","), vocab_size=args.vocab_size, top_k=args.top_k,
                            embedding_model=args.embedding_model)
    result = LocalClient().import_logs(request)
    print(result.model_dump_json(indent=2) if args.json else format_result(result))
    return 0
