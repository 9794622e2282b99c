"""Lining up two tokenizations of one answer text, so that each token of one side carries what the other side's
model gave the same characters. Log-probabilities in nats.

A token's characters are found by laying the tokens' texts end to end (special tokens, which the answer text
leaves out, take no characters). Each of the other side's tokens is given to the own token in which its first
character falls, so a word split into two tokens by one model and kept whole by the other compares as one word:
the sum of the two log-probabilities, which is the log-probability of the characters either way.
"""
from __future__ import annotations

import bisect
from typing import Literal, Optional, Sequence

from backend.schemas.compare import TokenDifference
from backend.schemas.text import TokenScore

Alignment = Literal["tokens", "characters", "none"]


def character_spans(tokens: Sequence[TokenScore]) -> list[tuple[int, int]]:
    """(start, end) character offsets of each token in the concatenated answer text; special tokens get a
    zero-width span where they stand. len(result) == len(tokens)."""
    spans, offset = [], 0
    for token in tokens:
        width = 0 if token.special else len(token.text)
        spans.append((offset, offset + width))
        offset += width
    return spans


def owner_of(starts: Sequence[int], ends: Sequence[int], char: int) -> Optional[int]:
    """Index of the span (sorted, non-overlapping; zero-width ones never own) holding character `char`: the last
    non-empty span starting at or before it; None when no span does."""
    position = bisect.bisect_right(starts, char) - 1
    while position >= 0 and ends[position] == starts[position]:
        position -= 1
    return position if position >= 0 else None


def other_logprobs(own: Sequence[TokenScore], other: Sequence[TokenScore]) -> tuple[list[float], list[int]]:
    """For each own token: the summed log p of the other's (non-special) tokens whose first character falls within
    it, and how many there are. Both are tokenizations of the same text. Returns two lists of len(own)."""
    spans = character_spans(own)
    starts, ends = [s for s, _ in spans], [e for _, e in spans]
    sums, counts = [0.0] * len(own), [0] * len(own)
    for token, (start, end) in zip(other, character_spans(other)):
        if token.special or start == end:
            continue
        index = owner_of(starts, ends, start)
        if index is None:
            continue
        sums[index] += token.logprob
        counts[index] += 1
    return sums, counts


def alignment_kind(own: Sequence[TokenScore], other: Optional[Sequence[TokenScore]]) -> Alignment:
    """'tokens' when both sides split the text into the same token texts, 'characters' otherwise, 'none' when
    the other side scored nothing."""
    if not other:
        return "none"
    texts = [t.text for t in own if not t.special]
    return "tokens" if texts == [t.text for t in other if not t.special] else "characters"


def token_differences(own: Sequence[TokenScore], other: Optional[Sequence[TokenScore]]) -> list[TokenDifference]:
    """One TokenDifference per own token: own log p, the other model's log p of the same characters and the
    difference (own - other, nats); the other side's numbers are None where it has no token (or scored nothing)."""
    sums, counts = other_logprobs(own, other) if other else ([0.0] * len(own), [0] * len(own))
    rows = []
    for index, (token, (start, end), total, count) in enumerate(zip(own, character_spans(own), sums, counts)):
        other_value = total if count else None
        rows.append(TokenDifference(index=index, text=token.text, start=start, end=end, own_logprob=token.logprob,
                                    other_logprob=other_value, other_tokens=count,
                                    difference=None if other_value is None else token.logprob - other_value))
    return rows


def text_logprob(tokens: Sequence[TokenScore]) -> float:
    """log p of an answer's text: the sum over its non-special tokens (nats)."""
    return float(sum(t.logprob for t in tokens if not t.special))
