"""Sub-word tokens grouped into words: which word each token belongs to, each word's text and token span.

Pure Python (no torch), so figure builders may use it too. A word is a run of tokens that a reader sees as one
unit: a new word starts at a token whose text begins with whitespace, at a special token, after a special token,
after a token ending in whitespace, and wherever the caller asks (the answer's first token, so answer words never
merge with the prompt). Tokens that decode to "" (the first bytes of a multi-byte character) stay in the word of
the token before them.
"""
from __future__ import annotations

from typing import Iterable, Sequence


def word_ids(texts: Sequence[str], special: Sequence[bool], breaks: Iterable[int] = ()) -> list[int]:
    """Word index (0, 1, 2, ...) of each of the T tokens.

    texts: (T,) surface text of each token. special: (T,) whether each is a special token.
    breaks: token indices that always start a new word.
    """
    if len(texts) != len(special):
        raise ValueError(f"{len(texts)} token texts but {len(special)} special flags")
    forced = set(breaks)
    ids: list[int] = []
    for i, text in enumerate(texts):
        starts = i == 0 or i in forced or special[i] or special[i - 1] or text[:1].isspace() \
            or texts[i - 1][-1:].isspace()
        ids.append((ids[-1] + 1 if ids else 0) if starts else ids[-1])
    return ids


def word_texts(texts: Sequence[str], word_of: Sequence[int]) -> list[str]:
    """The text of each word: its tokens' texts joined. word_of: (T,) from word_ids. Returns (W,)."""
    words = [""] * (max(word_of) + 1 if word_of else 0)
    for text, word in zip(texts, word_of):
        words[word] += text
    return words


def word_spans(word_of: Sequence[int]) -> list[tuple[int, int]]:
    """(first token, one past the last token) of each word, in order. word_of must be non-decreasing."""
    spans: list[tuple[int, int]] = []
    for i, word in enumerate(word_of):
        if word == len(spans):
            spans.append((i, i + 1))
        else:
            spans[word] = (spans[word][0], i + 1)
    return spans
