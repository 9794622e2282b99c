"""What a saved item's search finds besides its title, notes and model: the prompts and answers it holds.

Pure functions over the saved JSON (payload and request), so the text is computed once, at save time (and when an
older database is migrated), and stored in its own column.
"""
from __future__ import annotations

from typing import Any, Optional

SEARCH_KEYS = frozenset({"prompt", "generated_text", "answer", "question"})  # text, sequence, attention, audit
MAX_SEARCH_CHARS = 100_000


def texts_under_keys(value: Any, keys: frozenset[str] = SEARCH_KEYS) -> list[str]:
    """Every string held under one of `keys` anywhere in `value` (parsed JSON), in document order, each once;
    walked without recursion.

    Examples: a TextAnalysis gives [prompt, generated_text]; an AuditResult each item's question and answer.
    """
    found: list[str] = []
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                if key in keys and isinstance(child, str) and child.strip() and child not in found:
                    found.append(child)
            stack.extend(reversed([child for child in item.values() if isinstance(child, (dict, list))]))
        elif isinstance(item, list):
            stack.extend(reversed([child for child in item if isinstance(child, (dict, list))]))
    return found


def search_text(payload: Any, request: Optional[Any]) -> str:
    """The prompts and answers of one saved item, one per line, NUL characters replaced by spaces, at most
    MAX_SEARCH_CHARS characters."""
    texts = texts_under_keys(payload)
    texts += [t for t in texts_under_keys(request) if t not in texts] if request is not None else []
    return "\n".join(texts).replace("\x00", " ")[:MAX_SEARCH_CHARS]
