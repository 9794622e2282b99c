"""Attention and saliency units: a character split over byte tokens is one unit, shown as its glyph."""
from __future__ import annotations

import pytest

from backend.schemas.text_attention import InputToken
from components.token_units import token_units, unit_values

TEXTS = ["Hi", " ", "", "", "🦩", "!"]  # 🦩 is three byte tokens for the default tokenizer (token_texts gives "")


def tokens() -> list[InputToken]:
    return [InputToken(position=p, text=t, id=100 + p, special=False, kind="answer", word=min(p, 2))
            for p, t in enumerate(TEXTS)]


def test_byte_tokens_of_a_character_are_one_unit_labelled_with_the_glyph():
    units = token_units(tokens())
    assert [(u.label, u.position, u.members) for u in units] == [("Hi", 0, (0,)), (" ", 1, (1,)),
                                                                  ("🦩", 2, (2, 3, 4)), ("!", 5, (5,))]


def test_a_glyph_unit_sums_its_byte_tokens_values():
    values = unit_values([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], token_units(tokens()))
    assert values == pytest.approx([0.1, 0.2, 0.3 + 0.4 + 0.5, 0.6])
