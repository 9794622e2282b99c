"""Sentences as units, and the whole-answer saliency matrix drawn by sentence when its cells would not fit: each
row the mean of its sentence's token rows, each column an input sentence's summed scores, by hand."""
from __future__ import annotations

import pytest

from backend.schemas.text_attention import InputToken
from backend.schemas.text_saliency import SaliencyRow
from components import saliency_matrix
from components.saliency_matrix import matrix_granularity, saliency_grid, saliency_matrix_figure
from components.token_units import token_units
from tests.components.attribution_factories import make_saliency

# prompt "Hi there?" then the answer "It is. Yes! Ok"
TEXTS = ["Hi", " there", "?", "It", " is", ".", " Yes", "!", " Ok"]
KINDS = ["prompt"] * 3 + ["answer"] * 6
WORDS = [0, 1, 1, 2, 3, 3, 4, 4, 5]


def tokens() -> list[InputToken]:
    return [InputToken(position=p, text=t, id=p, special=False, kind=k, word=w)
            for p, (t, k, w) in enumerate(zip(TEXTS, KINDS, WORDS))]


def test_sentences_end_at_their_punctuation_and_where_the_answer_starts():
    units = token_units(tokens(), granularity="sentence")
    assert [u.members for u in units] == [(0, 1, 2), (3, 4, 5), (6, 7), (8,)]
    assert [u.label for u in units] == ["Hi there?", "It is.", " Yes!", " Ok"]


def saliency():
    """Rows for answer positions 4..8, row p's score of position i being p + i / 10."""
    base = make_saliency()
    rows = [SaliencyRow(position=p, text=TEXTS[p], scores=[p + i / 10 for i in range(p)], scale=1.0)
            for p in range(4, 9)]
    return base.model_copy(update={"tokens": tokens(), "rows": rows, "answer_start": 3})


def test_a_matrix_past_the_cell_limit_is_drawn_by_sentence_with_rows_averaged(monkeypatch):
    result = saliency()
    assert matrix_granularity(result, "token", True) == "token"
    monkeypatch.setattr(saliency_matrix, "MAX_MATRIX_CELLS", 10)
    assert matrix_granularity(result, "token", True) == "sentence"
    rows, columns, values = saliency_grid(result, granularity="sentence", show_template=True)
    assert len(rows) == 3 and len(columns) == 3  # answer sentences holding rows 4-5, 6-7, 8; inputs before 8

    def unit_sum(p: int, members) -> float:
        return sum(p + i / 10 for i in members if i < p)
    first = [(unit_sum(4, m) + unit_sum(5, m)) / 2 for m in ((0, 1, 2), (3, 4, 5))]
    assert values[0][:2] == pytest.approx(first)
    assert values[0][2] is None  # " Yes!" is after rows 4 and 5
    assert values[2] == pytest.approx([unit_sum(8, m) for m in ((0, 1, 2), (3, 4, 5), (6, 7))])
    figure = saliency_matrix_figure(result, granularity="token", show_template=True, selected_position=7)
    assert figure.data[0].z[1] == pytest.approx([(unit_sum(6, m) + unit_sum(7, m)) / 2
                                                for m in ((0, 1, 2), (3, 4, 5))] + [unit_sum(7, (6, 7))])
    # " Yes!" starts at 6: before row 7 only, so its cell is row 7's value alone
    assert figure.layout.yaxis.title.text.startswith("explained answer sentence")
    assert figure.layout.shapes[0].y0 == 0.5  # the selected token's sentence is marked
