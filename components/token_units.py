"""What the attention and saliency views draw one box or column for: a token, a word of tokens or a sentence of
words, optionally without the chat template. A character split over several byte tokens (whose texts are "" but
for the last, backend.text.generation.token_texts) is one unit even at token granularity, so it shows as its glyph.
Per-position rows (over positions 0..p-1) become one value per unit by summing the unit's tokens (sums keep totals:
attention still adds up, integrated gradients still sum to the target's change).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from backend.analyses.words import word_spans
from components.token_layout import glyph_groups
from backend.schemas.text_attention import InputToken


@dataclass(frozen=True)
class Unit:
    """A drawn unit: its text, its first token's position, and the positions of all its tokens."""

    label: str
    position: int
    members: tuple[int, ...]


def token_units(tokens: Sequence[InputToken], *, granularity: str = "token", show_template: bool = True
                ) -> list[Unit]:
    """Units in reading order. granularity "token" (one unit per token, but one per glyph for the byte tokens of
    a split character and marks joined to it: token_layout.glyph_groups), "word" or "sentence" (sentence_groups);
    without the template, units made only of chat template tokens are left out."""
    if granularity == "token":
        groups = [tuple(tokens[i].position for i in group) for group in glyph_groups([t.text for t in tokens])]
    elif granularity == "word":
        groups = [tuple(range(lo, hi)) for lo, hi in word_spans([t.word for t in tokens])]
    elif granularity == "sentence":
        groups = sentence_groups(tokens)
    else:
        raise ValueError(f"granularity must be 'token', 'word' or 'sentence', got {granularity!r}")
    return [Unit(label="".join(tokens[p].text for p in group), position=group[0], members=group)
            for group in groups if show_template or any(tokens[p].kind != "template" for p in group)]


SENTENCE_ENDS = (".", "!", "?", ":", ";")


def sentence_groups(tokens: Sequence[InputToken]) -> list[tuple[int, ...]]:
    """Token positions grouped into sentences: a sentence ends after a word whose text ends in SENTENCE_ENDS or
    holds a line break, and wherever the kind changes (template, prompt, answer), so the answer's first sentence
    never joins the prompt."""
    groups: list[list[int]] = []
    ended = True
    for lo, hi in word_spans([t.word for t in tokens]):
        if ended or tokens[lo].kind != tokens[groups[-1][-1]].kind:
            groups.append([])
        groups[-1].extend(range(lo, hi))
        text = "".join(tokens[p].text for p in range(lo, hi))
        ended = text.rstrip().endswith(SENTENCE_ENDS) or "\n" in text
    return [tuple(group) for group in groups]


def unit_values(row: Sequence[float], units: Sequence[Unit]) -> list[Optional[float]]:
    """One value per unit from a row over positions 0..len(row)-1: the sum over the unit's tokens inside the row;
    None for units that start at or after len(row) (not an input of that row)."""
    return [sum(row[p] for p in unit.members if p < len(row)) if unit.position < len(row) else None
            for unit in units]


def hidden_share(row: Sequence[float], units: Sequence[Unit]) -> float:
    """Share of the row's total |value| that falls on positions no unit shows (0 when nothing is hidden)."""
    shown = {p for unit in units for p in unit.members}
    total = sum(abs(v) for v in row)
    return sum(abs(v) for p, v in enumerate(row) if p not in shown) / total if total > 0 else 0.0
