"""The link that reopens a saved analysis, and the presenter view's larger figures."""
from __future__ import annotations

import pytest

from components.saved_link import app_base_path, saved_item_url
from components.token_curve import token_curve_figure
from components.token_heatmap import FONT, token_heatmap_figure
from tests.components.factories import make_token

ITEM = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"


@pytest.mark.parametrize("path, base", [("/text", ""), ("/", ""), ("", ""), ("/uq/text", "/uq"), ("/uq/", "/uq")])
def test_the_apps_base_path_drops_the_pages_own_segment(path, base):
    assert app_base_path(path) == base


def test_the_link_names_the_saved_page_the_id_and_the_view():
    assert saved_item_url("http://10.0.0.5:8501/text", ITEM) == f"http://10.0.0.5:8501/saved?id={ITEM}"
    assert saved_item_url("https://lab.example/uq/saved", ITEM, present=True) == \
        f"https://lab.example/uq/saved?id={ITEM}&view=present"
    assert saved_item_url(None, ITEM) == f"saved?id={ITEM}"


def test_the_presenter_scale_doubles_the_type_and_the_line_height():
    tokens = [make_token("Paris", 0.9), make_token(" is", 0.5, position=1)]
    page, room = (token_heatmap_figure(tokens, scale=s) for s in (1.0, 2.0))
    assert page.data[0].textfont.size == FONT["size"] and room.data[0].textfont.size == 2 * FONT["size"]
    assert room.layout.height > page.layout.height
    assert token_curve_figure(tokens, scale=1.6).layout.font.size == round(12 * 1.6)
    assert token_curve_figure(tokens, scale=1.6).layout.height == 480
