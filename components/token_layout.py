"""Where each token's box goes when text is drawn token by token like a paragraph (monospace character cells).

Three things make this more than "one box per token, left to right":
- a character whose UTF-8 bytes are split over several byte tokens decodes to "" on every token but the one that
  completes it (backend.text.generation.token_texts); such tokens, and tokens that only add a combining mark or an
  emoji modifier to the character before, form one glyph unit: one label drawn once over the unit's box, which
  is shared out between the unit's tokens so each keeps its own colour and hover;
- right-to-left scripts (Hebrew, Arabic) are placed in reading order by the Unicode bidirectional algorithm
  (UAX #9), simplified to token granularity: each token takes the direction of its first strong character,
  levels are resolved over the paragraph (rules W2/W7, N1/N2, I1/I2), lines are broken, and each line is
  reordered (L1, L2). A paragraph whose first strong character is right-to-left is right-aligned;
- wide characters (most emoji, CJK) take two cells, combining marks none.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Sequence

VISIBLE_WHITESPACE = {"\n": "↵", "\r": "␍", "\t": "→"}
EMPTY_TOKEN = "·"
ZERO_WIDTH_JOINER = "\u200d"
EMOJI_MODIFIERS = range(0x1F3FB, 0x1F400)
RTL_CLASSES = {"R", "AL"}
NUMBER_CLASSES = {"EN", "AN"}


@dataclass(frozen=True)
class TokenBox:
    """Where one token sits: line index (0 = top), first column and width in character cells (fractions for the
    tokens of a glyph unit), and the label drawn inside it ("" for the tokens of a multi-token glyph unit, whose
    label GlyphUnit draws once over them all)."""

    line: int
    column: float
    width: float
    label: str


@dataclass(frozen=True)
class GlyphUnit:
    """A drawn unit: line, first column and width in cells, its label, and the indices of its tokens."""

    line: int
    column: int
    width: int
    label: str
    members: tuple[int, ...]


def display_text(text: str) -> str:
    """The token as shown: newlines and tabs as visible marks, an empty piece as a dot (never raw HTML)."""
    shown = "".join(VISIBLE_WHITESPACE.get(ch, ch) for ch in text)
    return shown or EMPTY_TOKEN


def is_extender(ch: str) -> bool:
    """True for a character drawn as part of the one before: a combining mark, ZWJ, a variation selector or an
    emoji skin-tone modifier."""
    return (unicodedata.category(ch) in ("Mn", "Me") or ch == ZERO_WIDTH_JOINER
            or "\ufe00" <= ch <= "\ufe0f" or ord(ch) in EMOJI_MODIFIERS)


def cell_width(label: str) -> int:
    """Monospace cells a label takes (at least 1): 2 per wide character (East Asian Wide/Fullwidth, which covers
    most emoji), 0 per extender after another character and per character after a zero-width joiner (an emoji
    sequence draws as one glyph), 1 otherwise."""
    cells = 0
    for index, ch in enumerate(label):
        if index and (is_extender(ch) or label[index - 1] == ZERO_WIDTH_JOINER):
            continue
        cells += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return max(1, cells)


def glyph_groups(texts: Sequence[str]) -> list[tuple[int, ...]]:
    """Token indices grouped into glyph units, in order, covering every index once.

    First the byte tokens of a character: a token with text "" and the tokens after it up to the one that
    completes the character (the next with text). Then a group joins the one before it when it starts with an
    extender (combining mark, emoji modifier) or the one before ends in a zero-width joiner; a group that
    contains a newline is never extended.
    """
    pieces: list[list[int]] = []
    for index, text in enumerate(texts):
        if pieces and texts[pieces[-1][-1]] == "":
            pieces[-1].append(index)
        else:
            pieces.append([index])
    groups: list[list[int]] = []
    for piece in pieces:
        text = "".join(texts[i] for i in piece)
        if groups:
            before = "".join(texts[i] for i in groups[-1])
            if "\n" not in before and "\n" not in text and (
                    (text and is_extender(text[0])) or before.endswith(ZERO_WIDTH_JOINER)):
                groups[-1].extend(piece)
                continue
        groups.append(piece)
    return [tuple(group) for group in groups]


def direction(text: str) -> str:
    """Bidi type of a unit's text: "L" or "R" from its first strong character, "EN" for digits (European or
    Arabic-Indic) with no strong character, "N" otherwise (spaces, punctuation)."""
    classes = [unicodedata.bidirectional(ch) for ch in text]
    for bidi_class in classes:
        if bidi_class == "L" or bidi_class in RTL_CLASSES:
            return "L" if bidi_class == "L" else "R"
    return "EN" if any(c in NUMBER_CLASSES for c in classes) else "N"


def paragraph_levels(kinds: Sequence[str]) -> tuple[int, list[int]]:
    """Embedding level of each unit of one paragraph from its bidi types ("L", "R", "EN", "N"); returns (base
    level, levels): base 1 when the first strong type is "R", else 0. Even levels read left to right.

    W7: a number after "L" (or at the start of an LTR paragraph) counts as "L"; N1/N2: a neutral between two
    units of one direction (numbers count as "R") takes it, else the base direction; I1/I2 give the levels.
    """
    base = next((1 if k == "R" else 0 for k in kinds if k in ("L", "R")), 0)
    strong, resolved = "R" if base else "L", []
    for kind in kinds:
        if kind == "EN":
            kind = "L" if strong == "L" else "EN"
        elif kind in ("L", "R"):
            strong = kind
        resolved.append(kind)
    edge = "R" if base else "L"
    before, after = [edge] * len(resolved), [edge] * len(resolved)
    for index in range(1, len(resolved)):
        previous = resolved[index - 1]
        before[index] = before[index - 1] if previous == "N" else ("L" if previous == "L" else "R")
    for index in range(len(resolved) - 2, -1, -1):
        following = resolved[index + 1]
        after[index] = after[index + 1] if following == "N" else ("L" if following == "L" else "R")
    resolved = [(before[i] if before[i] == after[i] else edge) if kind == "N" else kind
                for i, kind in enumerate(resolved)]
    level_of = {"L": 2 if base else 0, "R": 1, "EN": 2}
    return base, [level_of[k] for k in resolved]


def visual_order(levels: Sequence[int]) -> list[int]:
    """Indices of one line's units from left to right (UAX #9 rule L2): from the highest level down to the
    lowest odd level, reverse every run of units at that level or above."""
    order = list(range(len(levels)))
    odd_levels = [level for level in levels if level % 2]
    if not odd_levels:
        return order
    for level in range(max(levels), min(odd_levels) - 1, -1):
        start = None
        for index in range(len(order) + 1):
            inside = index < len(order) and levels[order[index]] >= level
            if inside and start is None:
                start = index
            elif not inside and start is not None:
                order[start:index] = reversed(order[start:index])
                start = None
    return order


def fitted_label(text: str, chars_per_line: int) -> str:
    """display_text, cut with an ellipsis when it is wider than a line."""
    label = display_text(text)
    if cell_width(label) <= chars_per_line:
        return label
    while cell_width(label + "…") > chars_per_line:
        label = label[:-1]
    return label + "…"


def break_lines(widths: Sequence[int], ends_line: Sequence[bool], chars_per_line: int) -> list[list[int]]:
    """Unit indices per line, in logical order: a unit that would cross the right edge starts a new line, a
    unit marked in ends_line ends its line."""
    lines: list[list[int]] = [[]]
    used = 0
    for index, width in enumerate(widths):
        if used and used + width > chars_per_line:
            lines.append([])
            used = 0
        lines[-1].append(index)
        used += width
        if ends_line[index]:
            lines.append([])
            used = 0
    return [line for line in lines if line] or [[]]


def layout_units(texts: Sequence[str], chars_per_line: int) -> list[GlyphUnit]:
    """Glyph units of the tokens placed in reading order, one entry per unit in logical order.

    texts: (n,) token texts. Lines hold at most chars_per_line cells; a unit containing a newline ends its line
    and its paragraph. Right-to-left paragraphs are right-aligned; every line is reordered by visual_order.
    """
    groups = glyph_groups(texts)
    joined = ["".join(texts[i] for i in group) for group in groups]
    labels = [fitted_label(text, chars_per_line) for text in joined]
    widths = [cell_width(label) for label in labels]
    ends = ["\n" in text for text in joined]
    placed: list[GlyphUnit] = []
    start = row = 0
    for stop in [i + 1 for i, end in enumerate(ends) if end] + [len(groups)]:
        if stop <= start:
            continue
        base, levels = paragraph_levels([direction(text) for text in joined[start:stop]])
        for line in break_lines(widths[start:stop], ends[start:stop], chars_per_line):
            line_levels = [levels[i] for i in line]
            for position in range(len(line) - 1, -1, -1):
                if joined[start + line[position]].strip():
                    break
                line_levels[position] = base
            column = chars_per_line - sum(widths[start + i] for i in line) if base else 0
            for index in visual_order(line_levels):
                unit = start + line[index]
                placed.append(GlyphUnit(row, column, widths[unit], labels[unit], groups[unit]))
                column += widths[unit]
            row += 1
        start = stop
    return sorted(placed, key=lambda unit: unit.members[0])


def token_boxes(units: Sequence[GlyphUnit], n_tokens: int) -> list[TokenBox]:
    """One box per token, in token order: a unit's box is shared out in equal parts between its tokens (left to
    right in token order); a multi-token unit's tokens get the label "" (the unit's label is drawn over them)."""
    boxes: list[TokenBox] = [TokenBox(0, 0, 0, "")] * n_tokens
    for unit in units:
        part = unit.width / len(unit.members)
        label = unit.label if len(unit.members) == 1 else ""
        for offset, token in enumerate(unit.members):
            boxes[token] = TokenBox(unit.line, unit.column + offset * part, part, label)
    return boxes


def layout_tokens(texts: Sequence[str], chars_per_line: int) -> list[TokenBox]:
    """One box per token (texts: (n,)), placed as layout_units places their glyph units."""
    return token_boxes(layout_units(texts, chars_per_line), len(texts))
