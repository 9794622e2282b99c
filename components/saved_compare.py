"""Comparing saved text analyses: their sequence summaries side by side."""
from __future__ import annotations

from typing import Sequence

from backend.schemas import TextAnalysis


def summaries_table(titles: Sequence[str], analyses: Sequence[TextAnalysis]) -> list[dict]:
    """One row per summary (label, direction) with one column per analysis, titled by its saved title.

    Duplicate titles get a numeric suffix so every column survives.
    """
    columns = [title if titles.index(title) == i else f"{title} ({i + 1})" for i, title in enumerate(titles)]
    by_name = [{score.name: score for score in analysis.summaries} for analysis in analyses]
    rows = []
    for score in analyses[0].summaries if analyses else []:
        row = {"summary": score.label, "higher is": score.higher_is}
        for column, scores in zip(columns, by_name):
            row[column] = round(scores[score.name].value, 4) if score.name in scores else None
        rows.append(row)
    return rows
