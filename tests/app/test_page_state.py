"""The session-state keys pages share are named once, in app/page_state.py."""
from __future__ import annotations

import ast
from pathlib import Path

from app import page_state

APP = Path(__file__).resolve().parents[2] / "app"
SHARED = {value for name, value in vars(page_state).items() if name.startswith("TEXT_") and isinstance(value, str)}


def test_keys_are_the_text_pages_prefix_and_a_name():
    assert page_state.key("seq", "prompt") == "seq_prompt"
    assert page_state.TEXT_REQUEST == "text_request" and page_state.TEXT_AUTORUN == "text_autorun"
    assert {"text_request", "text_prompt", "text_max_new_tokens"} <= SHARED


def test_no_page_spells_a_shared_key_out():
    spelled = [f"{path.name}:{node.lineno}: {node.value!r}" for path in sorted(APP.glob("*.py"))
               if path.name != "page_state.py" for node in ast.walk(ast.parse(path.read_text()))
               if isinstance(node, ast.Constant) and node.value in SHARED]
    assert not spelled, "use app.page_state's names for keys pages share:\n" + "\n".join(spelled)
