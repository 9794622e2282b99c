"""RAUQ and UQAC on the pages, under AppTest on the real default model: the Sequence page's Attention tab (RAUQ's
heads and per-token confidence, UQAC's chain on the text) and the Attention page's RAUQ marker."""
from __future__ import annotations

import html

import pytest

from components.attention_client import RAUQ_PANEL
from tests.app.test_attention_page import analyze, map_view, open_page as open_attention_page
from tests.app.test_sequence_page import open_page, submit

pytestmark = pytest.mark.slow


def test_the_sequence_page_shows_rauqs_heads_and_uqacs_chain():
    at = open_page()
    at.pills(key="seq_methods_generation").set_value(["rauq", "uqac"])
    at.pills(key="seq_methods_samples").set_value([])
    at.pills(key="seq_methods_ask").set_value([])
    at.number_input(key="seq_max_new_tokens").set_value(24)
    at = submit(at.run(), "What is 12 + 7? Think step by step.")
    assert not at.exception and not at.error
    heads = next(df.value for df in at.dataframe if "Selected head" in df.value.columns)
    assert list(heads["Layer"]) == list(range(11, 22)) and heads["RAUQ (the largest)"].sum() == 1
    assert any(m.value.startswith("**RAUQ") for m in at.markdown)
    assert any("final answer (token" in m.value for m in at.markdown)
    chain = next(df.value for df in at.dataframe if "Attention from the chain (summed)" in df.value.columns)
    assert len(chain) >= 1


def test_the_attention_page_marks_rauqs_head_for_each_layer_in_the_browser():
    at = analyze(open_attention_page(), "What is the capital of France?", "Paris is the capital of France.")
    at.toggle(key="attn_rauq_marker").set_value(True).run()
    assert not at.exception and not at.error
    states = map_view(at)["states"]["map"]
    rauq = {key: html.unescape(next(u["html"] for u in updates if u.get("panel") == RAUQ_PANEL))
            for key, updates in states.items()}
    assert "RAUQ's head for layer 15: head" in rauq["head_mean|15"] and "this answer" in rauq["head_mean|15"]
    assert "RAUQ reads layers 11–21 only" in rauq["head|3|1"]


def test_the_attention_page_marks_rauqs_head_for_the_layer_shown(monkeypatch):
    monkeypatch.setattr("app.attention_tab.CLIENT_MAP_VALUES", 0)             # the server-side controls
    at = analyze(open_attention_page(), "What is the capital of France?", "Paris is the capital of France.")
    at.toggle(key="attn_rauq_marker").set_value(True).run()
    assert not at.exception and not at.error
    shown = at.slider(key="attn_layer").value
    note = next(c.value for c in at.caption if "RAUQ" in c.value and "this answer" in c.value)
    assert (f"RAUQ's head for layer {shown}: head" in note) == (11 <= shown <= 21), note
    at.slider(key="attn_layer").set_value(15).run()
    assert any("RAUQ's head for layer 15: head" in c.value for c in at.caption)
