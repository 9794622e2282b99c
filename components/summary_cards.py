"""Sequence summaries as metric cards, each saying what it measures, its range and which way is good."""
from __future__ import annotations

from typing import Sequence

import streamlit as st

from backend.schemas import Score

CARDS_PER_ROW = 3


def format_value(score: Score) -> str:
    """A compact number: 3 decimals below 1000, else scientific."""
    return f"{score.value:.3f}" if abs(score.value) < 1000 else f"{score.value:.3g}"


def score_help(score: Score) -> str:
    """Tooltip text: meaning, range and direction."""
    return f"{score.description} Range {score.value_range}; higher = more {score.higher_is}."


def render_summary_cards(scores: Sequence[Score], *, key: str) -> None:
    """Metric cards in rows of three, each with its direction under the number."""
    box = st.container(key=f"{key}_summaries")
    for start in range(0, len(scores), CARDS_PER_ROW):
        columns = box.columns(CARDS_PER_ROW)
        for column, score in zip(columns, scores[start:start + CARDS_PER_ROW]):
            column.metric(score.label, format_value(score), help=score_help(score))
            column.caption(f"higher = more {score.higher_is} · {score.value_range}")
