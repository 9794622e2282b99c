"""The session-state keys that more than one page reads or writes, named once.

Each page keeps its own widgets and results under its prefix ("text", "seq", "attn", "image", "calib", "saved"):
`key(prefix, name)` is f"{prefix}_{name}". The keys below cross pages: Home fills the Text page's form from an
example, and the Sequence and Attention pages offer to reuse the Text page's last request.
"""
from __future__ import annotations

from typing import Optional

import streamlit as st

TEXT = "text"  # the Text page's prefix


def key(prefix: str, name: str) -> str:
    """The session-state key of one page's widget or value: key("seq", "prompt") == "seq_prompt"."""
    return f"{prefix}_{name}"


TEXT_REQUEST = key(TEXT, "request")  # JSON of the TextRequest the Text page shows (str)
TEXT_AUTORUN = key(TEXT, "autorun")  # True: the Text page runs its form once without a click (bool)
TEXT_PROMPT = key(TEXT, "prompt")  # the Text page's prompt box (str)
TEXT_CHAT_TEMPLATE = key(TEXT, "chat_template")  # its chat template checkbox (bool)
TEXT_DECODING = key(TEXT, "decoding")  # its decoding radio ("greedy" or "sample")
TEXT_MAX_NEW_TOKENS = key(TEXT, "max_new_tokens")  # its max new tokens box (int)


def text_page_request() -> Optional[str]:
    """The JSON of the TextRequest the Text page showed last, or None before its first analysis."""
    return st.session_state.get(TEXT_REQUEST) or None
