"""An answer split into claims, and each claim's character span mapped to the answer's tokens. Pure, no model.

Claims are sentences; a sentence longer than LONG_SENTENCE_WORDS words is further split at clause boundaries
(after ';' or ':', or after a comma followed by a connective such as 'and', 'but', 'which'), each piece keeping at
least MIN_CLAUSE_WORDS words. A sentence ends at '.', '!' or '?' followed by white space (or the end), except after
an abbreviation ('e.g.', 'Dr.', a single capital letter) or inside a number ('3.5' has no white space after the dot).
Line breaks also end a claim. Spans are half-open [start, end) character offsets into the answer, leading and
trailing white space excluded.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Sequence

from backend.errors import UserInputError

LONG_SENTENCE_WORDS = 25
MIN_CLAUSE_WORDS = 4
ABBREVIATIONS = {"e.g", "i.e", "etc", "vs", "cf", "dr", "mr", "mrs", "ms", "prof", "st", "jr", "sr", "no", "fig",
                 "approx", "al", "inc", "ltd", "u.s", "u.k"}
CONNECTIVES = ("and", "but", "which", "while", "whereas", "although", "because", "so", "or", "yet", "who")
SENTENCE_END = re.compile(r"[.!?]+[\"')\]]*(?=\s|$)|\n+")
CLAUSE_END = re.compile(r"[;:](?=\s)|,(?=\s+(?:" + "|".join(CONNECTIVES) + r")\b)", re.IGNORECASE)
WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class ClaimSpan:
    """One claim: its text (answer[start:end]) and, once mapped, its tokens [token_start, token_end)."""

    text: str
    start: int
    end: int
    token_start: int = 0
    token_end: int = 0


def _trimmed(answer: str, start: int, end: int) -> Optional[tuple[int, int]]:
    """[start, end) without leading and trailing white space; None when nothing is left."""
    while start < end and answer[start].isspace():
        start += 1
    while end > start and answer[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


def _is_abbreviation(answer: str, dot: int) -> bool:
    """Whether the '.' at index dot ends an abbreviation ('e.g.', 'Dr.', 'J.') rather than a sentence."""
    word = answer[:dot].rsplit(None, 1)[-1] if answer[:dot].strip() else ""
    word = word.lstrip("(\"'[").casefold()
    return word in ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def sentence_spans(answer: str) -> list[tuple[int, int]]:
    """The sentences of answer as trimmed [start, end) spans, in order (see the module docstring)."""
    spans, start = [], 0
    for match in SENTENCE_END.finditer(answer):
        if match.group().startswith(".") and len(match.group()) == 1 and _is_abbreviation(answer, match.start()):
            continue
        piece = _trimmed(answer, start, match.end())
        if piece:
            spans.append(piece)
        start = match.end()
    piece = _trimmed(answer, start, len(answer))
    return spans + [piece] if piece else spans


def clause_spans(answer: str, start: int, end: int) -> list[tuple[int, int]]:
    """A long sentence answer[start:end] split at its clause boundaries, each piece at least MIN_CLAUSE_WORDS
    words (a boundary that would leave a shorter piece on either side is skipped); the sentence whole when it has
    at most LONG_SENTENCE_WORDS words."""
    sentence = answer[start:end]
    if len(WORD.findall(sentence)) <= LONG_SENTENCE_WORDS:
        return [(start, end)]
    spans, piece_start = [], 0
    for match in CLAUSE_END.finditer(sentence):
        cut = match.end()
        if (len(WORD.findall(sentence[piece_start:cut])) >= MIN_CLAUSE_WORDS
                and len(WORD.findall(sentence[cut:])) >= MIN_CLAUSE_WORDS):
            spans.append(_trimmed(answer, start + piece_start, start + cut))
            piece_start = cut
    spans.append(_trimmed(answer, start + piece_start, end))
    return [s for s in spans if s]


def split_claims(answer: str) -> list[ClaimSpan]:
    """The answer's claims: its sentences, long ones split at clause boundaries (no token spans yet)."""
    return [ClaimSpan(answer[a:b], a, b) for s, e in sentence_spans(answer) for a, b in clause_spans(answer, s, e)]


def given_claims(answer: str, texts: Sequence[str], noun: str = "answer") -> list[ClaimSpan]:
    """A user's split: each claim text found in the answer, in order, each searched from the end of the previous
    one (white space at either end ignored). UserInputError naming the first claim not found; noun: what the
    message calls the text ("response" for a dataset row's field)."""
    claims, position = [], 0
    for number, raw in enumerate(texts, 1):
        text = raw.strip()
        if not text:
            continue
        found = answer.find(text, position)
        if found < 0:
            where = "after the previous claim" if answer.find(text) >= 0 else f"in the {noun}"
            raise UserInputError(f"claim {number} ({text[:60]!r}) is not found {where}; each claim must be a piece "
                                 f"of the {noun}'s text, in the {noun}'s order")
        claims.append(ClaimSpan(text, found, found + len(text)))
        position = found + len(text)
    if not claims:
        raise UserInputError(f"the claim list is empty; give at least one claim, or leave it out to split the "
                             f"{noun}")
    return claims


def claims_at(answer: str, spans: Sequence[tuple[int, int]]) -> list[ClaimSpan]:
    """A user's split given as [start, end) character spans of the answer, in order and not overlapping;
    UserInputError naming the first span that is empty, past the answer's end or out of order."""
    claims, previous_end = [], 0
    for number, (start, end) in enumerate(spans, 1):
        if not 0 <= start < end <= len(answer) or start < previous_end:
            raise UserInputError(f"claim span {number} [{start}, {end}) is not a piece of the answer after the "
                                 f"previous one: spans must satisfy previous end <= start < end <= {len(answer)} "
                                 f"(the answer's length)")
        claims.append(ClaimSpan(answer[start:end], start, end))
        previous_end = end
    return claims


def token_offsets(answer: str, token_texts: Sequence[str], special: Sequence[bool]) -> list[tuple[int, int]]:
    """Each token's [start, end) in answer (T,): the token texts found in turn from the end of the previous one;
    a special token, or one whose text is not found next (a piece of a multi-byte character), takes an empty span
    at the current position."""
    offsets, position = [], 0
    for text, is_special in zip(token_texts, special):
        found = -1 if is_special or not text else answer.find(text, position, position + len(text) + 8)
        if found < 0:
            offsets.append((position, position))
        else:
            offsets.append((found, found + len(text)))
            position = found + len(text)
    return offsets


def with_token_spans(claims: Sequence[ClaimSpan], offsets: Sequence[tuple[int, int]]) -> list[ClaimSpan]:
    """The claims with token spans: the tokens whose characters overlap the claim's span (a token straddling two
    claims belongs to the first it overlaps); a claim overlapping no token gets an empty span."""
    mapped, first_free = [], 0
    for claim in claims:
        inside = [i for i in range(first_free, len(offsets))
                  if offsets[i][0] < claim.end and offsets[i][1] > claim.start]
        start, end = (inside[0], inside[-1] + 1) if inside else (first_free, first_free)
        mapped.append(ClaimSpan(claim.text, claim.start, claim.end, start, end))
        first_free = max(first_free, end)
    return mapped
