"""Showing untrusted text (prompts, model output) as text: never as markup."""
from __future__ import annotations

import html
import re

MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$&])")


def markdown_literal(text: str) -> str:
    """text escaped so that Streamlit's markdown shows it literally (no emphasis, links, code or HTML)."""
    return MARKDOWN_SPECIALS.sub(r"\\\1", text.replace("\n", " "))


def escape_plotly(text: str) -> str:
    """Escape text for plotly labels, which interpret a subset of HTML (<b>, <br>, <a ...>)."""
    return html.escape(text, quote=False)
