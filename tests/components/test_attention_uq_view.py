"""The RAUQ and UQAC views' builders: RAUQ's head table and caption, UQAC's chain drawn on the text."""
from components.attention_uq_view import chain_html, rauq_head_note, rauq_rows

DETAILS = {"layers": [10, 11], "heads": [3, 0], "per_layer": [1.4, 2.0], "layer": 11}


def test_rauq_rows_count_from_one_and_mark_the_largest():
    assert rauq_rows(DETAILS) == [
        {"Layer": 11, "Selected head": 4, "1 - mean ln c": 1.4, "RAUQ (the largest)": False},
        {"Layer": 12, "Selected head": 1, "1 - mean ln c": 2.0, "RAUQ (the largest)": True}]


def test_the_attention_page_caption_names_rauqs_head_for_its_layers_only():
    assert rauq_head_note(DETAILS, 10) == "RAUQ's head for layer 11: head 4"
    assert rauq_head_note(DETAILS, 3) == ""


def test_the_chain_is_drawn_on_the_escaped_text():
    out = chain_html(["<b>", " so", " 19"], [0, 2], [0.5, 0.0], [2])
    assert "&lt;b&gt;" in out and "<b>" not in out
    assert 'title="chain token 0: attention 0.500"' in out and "rgba(255,140,0,1.00)" in out
    assert 'title="final answer (token 2)"' in out and out.count("<span") == 2
