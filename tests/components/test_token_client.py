"""The Text page's browser-side answer view (components.token_client): the states the "Colour by" switch swaps in
are the colours the server-drawn figure has for that measure, and a token's detail carries its numbers, its
alternatives and the branch buttons that name it."""
from __future__ import annotations

import pytest

from components.measures import MEASURES
from components.token_client import branch_alternative, caption_html, detail_item, measure_states
from components.token_heatmap import token_heatmap_figure
from tests.components.factories import make_token, make_tokens


def test_each_measure_state_recolours_every_heatmap_as_the_figure_would_draw_it():
    answer, prompt = make_tokens(["The", " cat", " sat"]), make_tokens(["<b>Hi</b>"])
    states = measure_states({"a_heatmap": answer, "p_heatmap": prompt}, "legend")
    assert set(states) == set(MEASURES)
    for name, updates in states.items():
        figure_update, prompt_update, legend = updates
        drawn = token_heatmap_figure(answer, measure=name).data[0].marker
        assert figure_update["figure"] == "[class~='st-key-a_heatmap']" and figure_update["traces"] == [0]
        assert figure_update["restyle"]["marker.color"] == [pytest.approx(list(drawn.color))]
        assert figure_update["restyle"]["marker.colorbar.ticktext"] == [list(drawn.colorbar.ticktext)]
        assert figure_update["restyle"]["marker.colorbar.title.text"] == [drawn.colorbar.title.text]
        assert prompt_update["figure"] == "[class~='st-key-p_heatmap']"
        assert legend == {"panel": "legend", "html": caption_html(MEASURES[name].legend)}


def test_captions_are_escaped():
    assert caption_html("a <b> & c") == '<p class="uq-caption">a &lt;b&gt; &amp; c</p>'


def test_a_tokens_detail_has_its_numbers_alternatives_and_branches():
    token = make_token("yes", 0.7)
    item = detail_item(token, mode="generate", do_sample=False, branches=True)
    assert item["heading"] == f"'yes' at position {token.position}"
    assert [m[:2] for m in item["metrics"]] == [["Probability", "0.700"], ["Entropy (nats)", f"{token.entropy:.3f}"],
                                                ["Rank", "1"]]
    assert item["bars"] == [["1. 'yes'", 0.7, True], ["2. '<other>'", pytest.approx(0.3), False]]
    assert item["branches"] == [{"label": "Continue from here with '<other>' (p = 0.300)",
                                 "value": {"position": token.position, "rank": 2}}]
    assert detail_item(token, mode="score", do_sample=False, branches=False)["branches"] == []
    assert "Given in the answer you supplied" in detail_item(token, mode="score", do_sample=False,
                                                             branches=False)["note"]


def test_a_branch_button_names_its_token_and_alternative_or_nothing():
    tokens = make_tokens(["a", "b"])
    index, alternative = branch_alternative(tokens, {"position": tokens[1].position, "rank": 2})
    assert index == 1 and alternative == tokens[1].top_k[1]
    for bad in (None, "x", {"position": -5, "rank": 1}, {"position": tokens[0].position, "rank": 9},
                {"position": tokens[0].position, "rank": "1"}):
        assert branch_alternative(tokens, bad) is None
