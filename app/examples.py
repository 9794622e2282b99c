"""One-click examples for demos and teaching, and how a click hands one to the Text page."""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from app.page_state import TEXT_AUTORUN, TEXT_CHAT_TEMPLATE, TEXT_DECODING, TEXT_MAX_NEW_TOKENS, TEXT_PROMPT

TEXT_PAGE = "text_page.py"


@dataclass(frozen=True)
class Example:
    """A prompt with the settings that show its point."""

    title: str
    prompt: str
    lesson: str
    chat_template: bool = True
    do_sample: bool = False
    max_new_tokens: int = 32


EXAMPLES = (
    Example("A factual question", "What is the capital of France?",
            "The model is sure of the facts (pale tokens) and hesitates only on wording."),
    Example("An ambiguous question", "Name a famous scientist.",
            "Many answers are right, so the first content token has high entropy."),
    Example("A story opening", "Once upon a time, in a small village by the sea,",
            "Free continuation without the chat template: creative text is uncertain almost everywhere.",
            chat_template=False, do_sample=True, max_new_tokens=48),
)


def open_example(example: Example) -> None:
    """Fill the Text page's form with the example, ask it to run at once, and go there."""
    st.session_state[TEXT_PROMPT] = example.prompt
    st.session_state[TEXT_CHAT_TEMPLATE] = example.chat_template
    st.session_state[TEXT_DECODING] = "sample" if example.do_sample else "greedy"
    st.session_state[TEXT_MAX_NEW_TOKENS] = example.max_new_tokens
    st.session_state[TEXT_AUTORUN] = True
    st.switch_page(TEXT_PAGE)
