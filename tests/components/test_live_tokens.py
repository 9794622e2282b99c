"""The live token rendering: colours on the heatmap's probability scale, text escaped, white space kept."""
from __future__ import annotations

from backend.schemas import TokenScore
from components.live_tokens import live_tokens_html, probability_colour, scale_colour
from components.measures import CONFIDENT_SCALE


def token(text: str, prob: float) -> TokenScore:
    return TokenScore(position=3, text=text, id=1, prob=prob, logprob=0.0, entropy=0.0, rank=1, margin=0.0, top_k=[])


def test_the_colours_are_the_scale_stops_and_interpolate_between_them():
    assert probability_colour(1.0) == "#f7f7f2" and probability_colour(0.0) == "#d7301f"  # pale = sure, red = unsure
    assert probability_colour(0.3) == CONFIDENT_SCALE[1][1] == "#fc8d59"
    # halfway between #000000 and #ffffff rounds to 128 per channel
    assert scale_colour([[0.0, "#000000"], [1.0, "#ffffff"]], 0.5) == "#808080"
    assert scale_colour([[0.0, "#000000"], [1.0, "#ffffff"]], 7.0) == "#ffffff"


def test_token_text_is_escaped_and_each_token_is_one_span_with_its_probability():
    html = live_tokens_html([token("<b>hi</b>", 0.25), token(" & more\n", 0.9)])
    assert "<b>" not in html and "&lt;b&gt;hi&lt;/b&gt;" in html and " &amp; more\n" in html
    assert html.count("<span") == 2 and 'title="p = 0.250"' in html and "white-space:pre-wrap" in html
