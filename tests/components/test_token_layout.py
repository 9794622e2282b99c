"""Token layout: right-to-left text in reading order, characters split over byte tokens drawn as one glyph.

Real splits come from the default model's tokenizer through backend.text.generation.token_texts, the function
that makes the Text page's token texts.
"""
from __future__ import annotations

import pytest

from backend.text.generation import token_texts
from components.token_layout import (EMPTY_TOKEN, cell_width, glyph_groups, layout_tokens, layout_units,
                                     paragraph_levels, visual_order)

LINE = 72


@pytest.fixture(scope="module")
def split(default_tokenizer):
    """Text -> the token texts the Text page would show for it."""
    def texts(text: str) -> list[str]:
        ids = default_tokenizer.encode(text, add_special_tokens=False)
        return token_texts(default_tokenizer, ids, 0, len(ids))
    return texts


def right_to_left(units) -> str:
    """The labels read from the rightmost unit to the leftmost."""
    return "".join(u.label for u in sorted(units, key=lambda u: -u.column))


def left_to_right(units) -> str:
    """The labels read from the leftmost unit to the rightmost."""
    return "".join(u.label for u in sorted(units, key=lambda u: u.column))


def test_visual_order_reverses_runs_from_the_highest_level_down():
    assert visual_order([0, 0, 0]) == [0, 1, 2]
    assert visual_order([0, 1, 1, 0]) == [0, 2, 1, 3]
    assert visual_order([1, 1, 2, 2, 1]) == [4, 2, 3, 1, 0]


def test_paragraph_levels_follow_the_first_strong_direction():
    assert paragraph_levels(["L", "N", "R", "R", "N", "L"]) == (0, [0, 0, 1, 1, 0, 0])
    assert paragraph_levels(["R", "N", "EN", "EN"]) == (1, [1, 1, 2, 2])
    assert paragraph_levels(["N", "R", "N", "L", "N", "R"]) == (1, [1, 1, 1, 2, 1, 1])
    assert paragraph_levels(["L", "N", "EN"]) == (0, [0, 0, 0])


def test_hebrew_reads_right_to_left_from_the_right_margin(split):
    text = "שלום עולם, מה שלומך?"
    texts = split(text)
    assert "" in texts  # final letters are split over two byte tokens by this tokenizer
    units = layout_units(texts, LINE)
    assert right_to_left(units) == text
    assert max(u.column + u.width for u in units) == LINE
    assert EMPTY_TOKEN not in "".join(u.label for u in units)


def test_arabic_reads_right_to_left_with_its_number_left_to_right(split):
    text = "مرحبا بالعالم 123"
    units = layout_units(split(text), LINE)
    digits = [u for u in units if u.label.isdigit()]
    words = [u for u in units if not u.label.isdigit()]
    assert right_to_left(words) == "مرحبا بالعالم "
    assert left_to_right(digits) == "123"
    assert max(u.column for u in digits) < min(u.column for u in words)  # the number ends the line, on the left


def test_arabic_vowel_marks_stay_on_their_letters(split):
    text = "مَرْحَبًا"
    units = layout_units(split(text), LINE)
    assert right_to_left(units) == text and len(units) == 5


def test_hebrew_inside_an_english_line_is_reversed_in_place(split):
    text = "I said שלום to him"
    units = layout_units(split(text), LINE)
    assert units[0].label == "I" and units[0].column == 0
    hebrew = [u for u in units if "\u05d0" <= u.label[0] <= "\u05ea"]
    english_after = [u for u in units if u.label in (" to", " him")]
    assert right_to_left(hebrew) == "שלום"
    assert max(u.column for u in units if u.label == " said") < min(u.column for u in hebrew)
    assert max(u.column for u in hebrew) < min(u.column for u in english_after)
    assert left_to_right(english_after) == " to him"


def test_english_inside_a_hebrew_line_keeps_its_own_order(split):
    text = "שלום hello world עולם"
    units = layout_units(split(text), LINE)
    english = [u for u in units if u.label.strip().isascii() and u.label.strip()]
    assert left_to_right(english).split() == ["hello", "world"]
    first_word = [u for u in units if u.members[0] < 5 and not u.label.isascii()]
    assert min(u.column for u in first_word) > max(u.column for u in english)  # שלום starts on the right


@pytest.mark.parametrize("character, pieces", [("🎉", 3), ("🦩", 3), ("𓂀", 4)])
def test_a_character_split_over_byte_tokens_is_one_glyph(split, character, pieces):
    texts = split(character)
    assert texts == [""] * (pieces - 1) + [character]
    (unit,) = layout_units(texts, LINE)
    assert unit.label == character and unit.members == tuple(range(pieces))
    boxes = layout_tokens(texts, LINE)
    assert [b.label for b in boxes] == [""] * pieces  # the glyph is drawn once, over the shared box
    assert [b.column for b in boxes] == pytest.approx([unit.column + i * unit.width / pieces for i in range(pieces)])
    assert sum(b.width for b in boxes) == pytest.approx(unit.width) == cell_width(character)


def test_an_emoji_with_a_skin_tone_and_a_family_sequence_are_one_glyph_each(split):
    units = layout_units(split("Party 🎉 time 👍🏽 ok 👨‍👩‍👧!"), LINE)
    labels = [u.label for u in units]
    assert "👍🏽" in labels and "👨\u200d👩\u200d👧" in labels and "🎉" in labels
    assert EMPTY_TOKEN not in "".join(labels)
    assert left_to_right(units) == "Party 🎉 time 👍🏽 ok 👨\u200d👩\u200d👧!"


def test_glyph_groups_leave_an_unfinished_character_at_the_end_as_a_dot():
    assert glyph_groups(["a", "", ""]) == [(0,), (1, 2)]
    (_, unfinished) = layout_units(["a", "", ""], LINE)
    assert unfinished.label == EMPTY_TOKEN


def test_a_newline_ends_a_glyph_group_and_its_paragraph():
    assert glyph_groups(["\n", "", "x"]) == [(0,), (1, 2)]
    units = layout_units(["שלום", "\n", "hi"], LINE)
    assert [u.line for u in units] == [0, 0, 1]
    assert units[0].column + units[0].width == LINE and units[2].column == 0  # each paragraph its own direction


def test_wide_characters_take_two_cells_and_marks_none():
    assert cell_width("🎉") == 2 and cell_width("猫") == 2 and cell_width("e\u0301") == 1 and cell_width("") == 1
    assert cell_width("👍🏽") == 2 and cell_width("👨\u200d👩\u200d👧") == 2


def test_a_right_to_left_paragraph_wraps_onto_right_aligned_lines():
    texts = ["אבג "] * 10
    units = layout_units(texts, 12)
    assert [u.line for u in units] == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3]
    assert [u.column for u in units[:3]] == [8, 4, 0] and units[9].column == 8
