"""How a served model's partial numbers are shown: a rank beyond the top-k, an entropy estimate with its bounds,
and the produced token found among alternatives that carry no ids."""
from __future__ import annotations

from backend.schemas import Alternative
from components.measures import MEASURES, entropy_label, is_token, rank_label
from components.token_detail import bar_rows, origin_note
from tests.components.factories import make_token


def served_token(rank, bounds=(0.3, 1.5), ids=True):
    """A token of a served model: top-2 listed, its own rank None (beyond them) or known."""
    token = make_token("x", 0.05, entropy=0.9, rank=1)
    top = [Alternative(id=1 if ids else None, text="a", prob=0.6, logprob=-0.51),
           Alternative(id=2 if ids else None, text="b", prob=0.2, logprob=-1.61)]
    return token.model_copy(update={"rank": rank, "entropy_bounds": list(bounds), "top_k": top,
                                    "id": 9 if ids else None})


def test_a_rank_beyond_the_top_k_reads_as_more_than_k_and_colours_as_k_plus_one():
    token = served_token(None)
    assert rank_label(token) == "> 2"
    assert MEASURES["rank"].value(token) == 3.0
    assert bar_rows(token)[-1] == ("> 2. 'x'", 0.05, True)
    assert "this token is rank > 2" in origin_note(token, mode="generate", do_sample=True)


def test_an_entropy_estimate_shows_its_bounds_and_an_exact_one_does_not():
    assert entropy_label(served_token(None)) == "0.90 (0.30-1.50)"
    assert entropy_label(served_token(None, bounds=(0.9, 0.9))) == "0.900"
    assert entropy_label(make_token("x", 0.5, entropy=0.25)) == "0.250"


def test_without_ids_the_produced_token_is_found_by_its_text():
    token = served_token(2, ids=False).model_copy(update={"text": "b"})
    assert [is_token(a, token) for a in token.top_k] == [False, True]
    assert [chosen for _, _, chosen in bar_rows(token)] == [False, True]
