"""Reading an imported log: one JSON response, a JSON array of them, or JSONL (one response a line), each an
OpenAI chat completion (choices[].logprobs.content[] with token, logprob, bytes, top_logprobs[]) or a vLLM /
OpenAI completion (choices[].logprobs with tokens, token_logprobs, top_logprobs as {token: logprob} and
text_offset). A line may carry "prompt" (a string, or the request's "messages": the last user message is the
prompt), "reference" (an accepted answer) and "temperature"; {"prompt", "response": {...}} wrappers are read too.

Only json.loads runs on the text (nothing is evaluated or fetched); the size is checked before parsing and the
counts while reading (backend.imports.limits). Every refusal is a UserInputError naming the line (or array item)
and the field path, e.g. "line 3: choices[0].logprobs.content[5].top_logprobs[1].logprob: must be a number <= 0".

Each token becomes a backend.served.evidence.TokenEvidence (the served path's reading: rank counted in the listed
alternatives, entropy bounds from them), read as vLLM lists them (the chosen token may be listed first, beyond the
true top-k), which is valid for OpenAI's true top-k lists too.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Optional

from backend.errors import UserInputError
from backend.imports import limits
from backend.served.evidence import Alternative, TokenEvidence, chat_alternative, split_token, token_evidence


@dataclass(frozen=True)
class ParsedChoice:
    """One answer of a response: its text, tokens (with their evidence), which tokens are special (the end token
    an engine lists last), why it stopped ("stop", "length" or None) and its token ids (None when not given)."""

    text: str
    tokens: tuple[TokenEvidence, ...]
    special: tuple[bool, ...]
    finish_reason: Optional[str]
    token_ids: Optional[tuple[int, ...]]


@dataclass(frozen=True)
class ParsedResponse:
    """One response as read: where it was (label: "line 3" or "item 2"), its format ("chat" or "completion"), the
    model it names, the prompt, reference and temperature the line gives (None when absent) and its choices."""

    label: str
    format: str
    model: str
    prompt: Optional[str]
    reference: Optional[str]
    temperature: Optional[float]
    choices: tuple[ParsedChoice, ...]


KIND_NAMES = {str: "a string", list: "a list", dict: "an object", int: "a number", float: "a number",
              bool: "true or false", type(None): "null"}


class FieldError(UserInputError):
    """A refusal that names a field path; the reader adds the line."""


def fail(path: str, problem: str) -> FieldError:
    return FieldError(f"{path}: {problem}" if path else problem)


def _field(obj: Any, key: str, path: str, kind: type | tuple[type, ...], *, optional: bool = False) -> Any:
    """obj[key] checked to be of `kind` (None allowed when optional); FieldError naming path.key otherwise."""
    where = f"{path}.{key}" if path else key
    if not isinstance(obj, dict):
        raise fail(path, f"must be a JSON object, got {type(obj).__name__}")
    value = obj.get(key)
    if value is None:
        if optional:
            return None
        raise fail(where, "is missing")
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or isinstance(value, bool) and bool not in kinds:
        names = " or ".join(dict.fromkeys(KIND_NAMES.get(k, k.__name__) for k in kinds))
        raise fail(where, f"must be {names}, got {KIND_NAMES.get(type(value), type(value).__name__)}")
    return value


def logprob_value(value: Any, path: str) -> float:
    """A log-probability: a finite number <= 0 (a hair above 0 from rounding is read as 0)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value > 1e-6:
        raise fail(path, f"must be a finite number <= 0 (a natural-log probability), got {value!r}")
    return min(float(value), 0.0)


def _text(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise fail(path, f"must be a string, got {type(value).__name__}")
    if len(value) > limits.MAX_TEXT_CHARS:
        raise fail(path, f"is {len(value)} characters long; at most {limits.MAX_TEXT_CHARS} are read")
    return value


def _listed(items: list, path: str, limit: int, what: str) -> list:
    if len(items) > limit:
        raise fail(path, f"has {len(items)} {what}; at most {limit} are read")
    return items


def _evidence(chosen: Alternative, listed: list[Alternative], vocab_size: int, path: str) -> TokenEvidence:
    """token_evidence with its refusals named by the token's path."""
    if not listed:
        raise fail(path, "lists no alternatives; log the response with top_logprobs >= 2")
    try:
        return token_evidence(chosen, listed, vocab_size, true_top_k=False)
    except UserInputError as exc:
        raise fail(path, str(exc)) from None


def _chat_token(entry: Any, path: str, vocab_size: int) -> TokenEvidence:
    """One entry of logprobs.content: token, logprob, bytes (optional) and top_logprobs[]."""
    _field(entry, "token", path, str)
    logprob_value(_field(entry, "logprob", path, (int, float)), f"{path}.logprob")
    _bytes(entry, path)
    top = _listed(_field(entry, "top_logprobs", path, list), f"{path}.top_logprobs", limits.MAX_ALTERNATIVES,
                  "alternatives")
    listed = []
    for j, alternative in enumerate(top):
        where = f"{path}.top_logprobs[{j}]"
        _field(alternative, "token", where, str)
        logprob_value(_field(alternative, "logprob", where, (int, float)), f"{where}.logprob")
        _bytes(alternative, where)
        listed.append(chat_alternative(alternative))
    return _evidence(chat_alternative(entry), listed, vocab_size, path)


def _bytes(entry: dict, path: str) -> None:
    raw = entry.get("bytes")
    if raw is not None and (not isinstance(raw, list) or not all(isinstance(b, int) and not isinstance(b, bool)
                                                                   and 0 <= b <= 255 for b in raw)):
        raise fail(f"{path}.bytes", "must be a list of integers from 0 to 255 (the token's UTF-8 bytes)")


def _token_ids(choice: dict, path: str, count: int) -> Optional[tuple[int, ...]]:
    ids = _field(choice, "token_ids", path, list, optional=True)
    if ids is None:
        return None
    if len(ids) != count or not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in ids):
        raise fail(f"{path}.token_ids", f"must be {count} non-negative integers (one per logged token)")
    return tuple(ids)


def _special(text: str, tokens: tuple[TokenEvidence, ...], finish_reason: Optional[str]) -> tuple[bool, ...]:
    """The last token is special when the answer stopped on an end token that its text leaves out (vLLM lists
    "<|im_end|>" last; OpenAI's API lists no end token, and the text ends with its last token)."""
    last_special = bool(tokens) and finish_reason == "stop" and not text.endswith(tokens[-1].text)
    return tuple(last_special and i == len(tokens) - 1 for i in range(len(tokens)))


def chat_choice(choice: Any, path: str, vocab_size: int) -> ParsedChoice:
    """A chat completion choice with logprobs.content[] (see the module docstring)."""
    message = _field(choice, "message", path, dict, optional=True) or {}
    text = _text(message.get("content") or "", f"{path}.message.content")
    logprobs = _field(choice, "logprobs", path, dict)
    content = _listed(_field(logprobs, "content", f"{path}.logprobs", list), f"{path}.logprobs.content",
                      limits.MAX_TOKENS_PER_CHOICE, "tokens")
    if not content:
        raise fail(f"{path}.logprobs.content", "is empty; an answer needs at least one logged token")
    tokens = tuple(_chat_token(entry, f"{path}.logprobs.content[{i}]", vocab_size) for i, entry in enumerate(content))
    finish = _field(choice, "finish_reason", path, str, optional=True)
    return ParsedChoice(text or "".join(t.text for t in tokens), tokens, _special(text, tokens, finish), finish,
                        _token_ids(choice, path, len(tokens)))


def completion_choice(choice: Any, path: str, vocab_size: int) -> ParsedChoice:
    """A completions choice: logprobs {tokens, token_logprobs, top_logprobs [{token: logprob}], text_offset}."""
    text = _text(_field(choice, "text", path, str, optional=True) or "", f"{path}.text")
    logprobs = _field(choice, "logprobs", path, dict)
    where = f"{path}.logprobs"
    tokens = _listed(_field(logprobs, "tokens", where, list), f"{where}.tokens", limits.MAX_TOKENS_PER_CHOICE,
                     "tokens")
    if not tokens:
        raise fail(f"{where}.tokens", "is empty; an answer needs at least one logged token")
    columns = {"token_logprobs": _field(logprobs, "token_logprobs", where, list),
               "top_logprobs": _field(logprobs, "top_logprobs", where, list)}
    offsets = _field(logprobs, "text_offset", where, list, optional=True)
    if offsets is not None:
        columns["text_offset"] = offsets
    for name, column in columns.items():
        if len(column) != len(tokens):
            raise fail(f"{where}.{name}", f"has {len(column)} entries but tokens has {len(tokens)}; each token needs "
                                          f"one (is the file cut short?)")
    evidence = []
    for i, token in enumerate(tokens):
        token_text = split_token(_text(token, f"{where}.tokens[{i}]"))[0] or token
        logprob = logprob_value(columns["token_logprobs"][i], f"{where}.token_logprobs[{i}]")
        top = columns["top_logprobs"][i]
        if not isinstance(top, dict):
            raise fail(f"{where}.top_logprobs[{i}]", f"must be an object {{token: logprob}}, got "
                                                      f"{type(top).__name__}")
        _listed(list(top), f"{where}.top_logprobs[{i}]", limits.MAX_ALTERNATIVES, "alternatives")
        listed = [Alternative(text=split_token(name)[0] or name,
                              logprob=logprob_value(value, f"{where}.top_logprobs[{i}][{json.dumps(name)}]"))
                  for name, value in top.items()]
        evidence.append(_evidence(Alternative(text=token_text, logprob=logprob), listed, vocab_size,
                                  f"{where}.tokens[{i}]"))
    if offsets is not None and not all(isinstance(o, int) and not isinstance(o, bool) and o >= 0 for o in offsets):
        raise fail(f"{where}.text_offset", "must be non-negative integers (each token's character offset)")
    chosen = tuple(evidence)
    finish = _field(choice, "finish_reason", path, str, optional=True)
    return ParsedChoice(text or "".join(t.text for t in chosen), chosen, _special(text, chosen, finish), finish,
                        _token_ids(choice, path, len(chosen)))


def response_format(response: dict, path: str) -> str:
    """"chat" or "completion", from `object` when given, else from the first choice's shape."""
    kind = response.get("object")
    if kind in ("chat.completion", "chat.completion.chunk"):
        return "chat"
    if kind == "text_completion":
        return "completion"
    choices = _field(response, "choices", path, list)
    first = choices[0] if choices and isinstance(choices[0], dict) else {}
    logprobs = first.get("logprobs") if isinstance(first.get("logprobs"), dict) else {}
    if "content" in logprobs or "message" in first:
        return "chat"
    if "tokens" in logprobs or "text" in first:
        return "completion"
    raise fail(f"{path}.choices[0]" if path else "choices[0]",
               "is neither a chat completion choice (message, logprobs.content) nor a completion choice (text, "
               "logprobs.tokens); log responses with logprobs on")


def line_prompt(line: dict) -> Optional[str]:
    """The prompt a line gives: "prompt" (a string), else the last user message of "messages"."""
    prompt = line.get("prompt")
    if prompt is not None:
        return _text(prompt, "prompt")
    messages = line.get("messages")
    if messages is None:
        return None
    if not isinstance(messages, list):
        raise fail("messages", "must be a list of {role, content} objects")
    users = [(i, m) for i, m in enumerate(messages) if isinstance(m, dict) and m.get("role") == "user"]
    if not users:
        raise fail("messages", "has no user message to take as the prompt")
    index, message = users[-1]
    return _text(message.get("content"), f"messages[{index}].content")


def parse_response(line: Any, label: str, vocab_size: int) -> ParsedResponse:
    """One line (or array item): a response, or {"response": {...}} beside prompt / reference / temperature."""
    try:
        if not isinstance(line, dict):
            raise fail("", f"must be a JSON object (a response), got {type(line).__name__}")
        response, path = (line["response"], "response") if "response" in line and "choices" not in line else (line, "")
        if not isinstance(response, dict):
            raise fail(path, f"must be a JSON object (a response), got {type(response).__name__}")
        kind = response_format(response, path)
        choices = _field(response, "choices", path, list)
        if not choices:
            raise fail(f"{path}.choices" if path else "choices", "is empty; a response needs at least one choice")
        _listed(choices, f"{path}.choices" if path else "choices", limits.MAX_CHOICES, "choices")
        read = chat_choice if kind == "chat" else completion_choice
        prefix = f"{path}.choices" if path else "choices"
        parsed = tuple(read(choice, f"{prefix}[{i}]", vocab_size) for i, choice in enumerate(choices))
        reference = line.get("reference")
        temperature = line.get("temperature")
        if temperature is not None and (isinstance(temperature, bool) or not isinstance(temperature, (int, float))
                                        or not 0 <= temperature <= 10):
            raise fail("temperature", f"must be a number from 0 to 10, got {temperature!r}")
        model = response.get("model")
        return ParsedResponse(label=label, format=kind, model=model if isinstance(model, str) and model else "",
                              prompt=line_prompt(line),
                              reference=_text(reference, "reference") if reference is not None else None,
                              temperature=float(temperature) if temperature is not None else None, choices=parsed)
    except FieldError as exc:
        raise UserInputError(f"{label}: {exc}") from None


def _loads(text: str, label: str) -> Any:
    """json.loads with its refusals in words (the place, and a hint when the text stops early)."""
    try:
        return json.loads(text)
    except RecursionError:
        raise UserInputError(f"{label}: nested too deeply to read; a response nests fewer than 10 levels") from None
    except json.JSONDecodeError as exc:
        cut = " (the file looks cut short)" if exc.pos >= len(text.rstrip()) - 1 else ""
        raise UserInputError(f"{label}: not valid JSON: {exc.msg} at column {exc.colno}{cut}") from None


def read_documents(content: str) -> list[tuple[str, Any]]:
    """(label, parsed JSON) of every response in the file: one document ("line 1"), a JSON array ("item N") or
    JSONL ("line N", blank lines skipped). Refusals name the line and column."""
    if len(content.encode("utf-8", errors="replace")) > limits.MAX_IMPORT_BYTES:
        raise UserInputError(f"the file is larger than {limits.MAX_IMPORT_BYTES:,} bytes; split it into smaller "
                             f"JSONL files")
    if not content.strip():
        raise UserInputError("the file is empty; give a JSON response or a JSONL of responses")
    lines = content.splitlines()
    numbered = [(n, line) for n, line in enumerate(lines, start=1) if line.strip()]
    if len(numbered) > limits.MAX_RESPONSES and numbered[0][1].lstrip().startswith("{") and len(numbered[0][1]) > 2:
        raise UserInputError(f"the file has {len(numbered)} lines; at most {limits.MAX_RESPONSES} responses are "
                             f"read: split it")
    try:
        whole = json.loads(content)
    except (json.JSONDecodeError, RecursionError) as exc:
        whole, problem = None, exc
    else:
        problem = None
    if problem is None:
        if isinstance(whole, list):
            if len(whole) > limits.MAX_RESPONSES:
                raise UserInputError(f"the array holds {len(whole)} responses; at most {limits.MAX_RESPONSES} are "
                                     f"read: split it")
            return [(f"item {i}", item) for i, item in enumerate(whole, start=1)]
        return [(f"line {numbered[0][0]}", whole)]
    first_number, first = numbered[0]
    try:
        json.loads(first)
    except (json.JSONDecodeError, RecursionError):
        if isinstance(problem, RecursionError):
            raise UserInputError("line 1: nested too deeply to read; a response nests fewer than 10 levels") from None
        cut = " (the file looks cut short)" if problem.pos >= len(content.rstrip()) - 1 else ""
        raise UserInputError(f"line {problem.lineno}: not valid JSON: {problem.msg} at column "
                             f"{problem.colno}{cut}") from None
    return [(f"line {n}", _loads(line, f"line {n}")) for n, line in numbered]


def parse_log(content: str, vocab_size: int) -> list[ParsedResponse]:
    """Every response in the file, read and checked (see the module docstring); at most MAX_TOTAL_TOKENS tokens."""
    responses, total = [], 0
    for label, document in read_documents(content):
        response = parse_response(document, label, vocab_size)
        total += sum(len(c.tokens) for c in response.choices)
        if total > limits.MAX_TOTAL_TOKENS:
            raise UserInputError(f"{label}: the file holds more than {limits.MAX_TOTAL_TOKENS:,} answer tokens by "
                                 f"here; at most that many are read: split it")
        responses.append(response)
    return responses
