"""Comparing two saved items: what each was asked, their numbers side by side in one table, and their answers
drawn in the same colouring. Pure helpers over the saved payloads (schema objects) plus one renderer."""
from __future__ import annotations

from typing import Any, Optional, Sequence

import streamlit as st

from backend.schemas import SequenceAnalysis, TextAnalysis
from backend.schemas.audit import AuditResult
from backend.schemas.audit_compare import AuditComparison
from backend.schemas.branches import BranchTree
from backend.schemas.saved import SavedAttention, SavedImage
from components.class_probabilities import distribution_at, render_class_probabilities
from components.saved_attribution_views import top_classes
from components.text_analysis_view import measure_choice
from components.text_safety import markdown_literal
from components.token_heatmap import render_token_heatmap


def column_titles(titles: Sequence[str]) -> list[str]:
    """The titles as column names; a repeated title gets its position as a suffix so every column survives."""
    return [title if list(titles).index(title) == i else f"{title} ({i + 1})" for i, title in enumerate(titles)]


def summaries_table(titles: Sequence[str], analyses: Sequence[TextAnalysis]) -> list[dict]:
    """One row per summary (label, direction) with one column per analysis, titled by its saved title."""
    by_name = [{score.name: score for score in analysis.summaries} for analysis in analyses]
    rows = []
    for score in analyses[0].summaries if analyses else []:
        row = {"summary": score.label, "higher is": score.higher_is}
        for column, scores in zip(column_titles(titles), by_name):
            row[column] = round(scores[score.name].value, 4) if score.name in scores else None
        rows.append(row)
    return rows


def sequence_scores_table(titles: Sequence[str], analyses: Sequence[SequenceAnalysis]) -> list[dict]:
    """One row per sequence score present in any analysis (first seen first), one column per analysis (None
    where that analysis did not compute it or got no value)."""
    names: dict[str, Any] = {}
    for analysis in analyses:
        for score in analysis.scores:
            names.setdefault(score.name, score)
    rows = []
    for name, score in names.items():
        row = {"score": score.label, "higher is": f"more {score.higher_is}", "range": score.value_range}
        for column, analysis in zip(column_titles(titles), analyses):
            value = next((s.value for s in analysis.scores if s.name == name), None)
            row[column] = None if value is None else round(value, 4)
        rows.append(row)
    return rows


def image_table(titles: Sequence[str], results: Sequence[SavedImage]) -> list[dict]:
    """The top class, its probability, entropy and margin of each image result (at its saved temperature)."""
    stats = [distribution_at(r.analysis.logits, r.temperature) for r in results]
    columns = column_titles(titles)
    rows = [{"quantity": "top class", **{c: r.analysis.top_k[0].label for c, r in zip(columns, results)}},
            {"quantity": "temperature", **{c: r.temperature for c, r in zip(columns, results)}},
            {"quantity": "top probability (higher = more confident)",
             **{c: round(float(s.top_probs[0]), 4) for c, s in zip(columns, stats)}},
            {"quantity": "entropy, nats (higher = more uncertain)",
             **{c: round(float(s.entropy), 4) for c, s in zip(columns, stats)}},
            {"quantity": "top-2 margin (higher = more confident)",
             **{c: round(float(s.margin), 4) for c, s in zip(columns, stats)}}]
    return [{k: str(v) for k, v in row.items()} for row in rows]


def audit_table(titles: Sequence[str], results: Sequence[AuditResult]) -> list[dict]:
    """Accuracy and each method's ECE, Brier, AUROC and AURC, one column per audit."""
    columns = column_titles(titles)
    rows = [{"quantity": "items", **{c: r.n for c, r in zip(columns, results)}},
            {"quantity": "accuracy", **{c: round(r.accuracy, 4) for c, r in zip(columns, results)}}]
    methods = list(dict.fromkeys(name for r in results for name in r.metrics))
    for method in methods:
        for metric in ("ece", "brier", "auroc", "aurc"):
            values = {c: getattr(r.metrics[method], metric) if method in r.metrics else None
                      for c, r in zip(columns, results)}
            rows.append({"quantity": f"{method}: {metric.upper()}",
                         **{c: None if v is None else round(v, 4) for c, v in values.items()}})
    return rows


def audit_comparison_table(titles: Sequence[str], results: Sequence[AuditComparison]) -> list[dict]:
    """Paired items and each metric's difference B - A, one column per saved audit comparison."""
    columns = column_titles(titles)
    rows = [{"quantity": "paired items", **{c: r.paired_items for c, r in zip(columns, results)}}]
    for index, metric in enumerate(results[0].metrics):
        values = {c: r.metrics[index].difference if index < len(r.metrics) else None for c, r in zip(columns, results)}
        rows.append({"quantity": f"{metric.label}: B − A",
                     **{c: None if v is None else round(v, 4) for c, v in values.items()}})
    return rows


def answer_of(payload) -> Optional[TextAnalysis]:
    """The analysed answer inside a text, sequence or attention payload (a branch tree's first answer); None for
    images and audits."""
    if isinstance(payload, TextAnalysis):
        return payload
    if isinstance(payload, SequenceAnalysis):
        return payload.text
    if isinstance(payload, SavedAttention):
        return payload.analysis
    if isinstance(payload, BranchTree):
        return payload.nodes[0].analysis
    return None


def asked(payload) -> str:
    """What the item was about: the prompt of a text-like item, the image's name, or the audit's data."""
    answer = answer_of(payload)
    if answer is not None:
        return answer.prompt
    if isinstance(payload, SavedImage):
        return f"image {payload.analysis.image.name}"
    if isinstance(payload, AuditComparison):
        return f"dataset {payload.dataset_id}: {payload.a.label} vs {payload.b.label} ({payload.paired_items} paired)"
    return f"dataset {payload.dataset_id} ({payload.n} items)"


def comparison_table(titles: Sequence[str], payloads: Sequence) -> Optional[list[dict]]:
    """The numbers of two items of one kind side by side; None when the kinds differ."""
    kinds = {type(p) for p in payloads}
    if len(kinds) != 1:
        return None
    kind = kinds.pop()
    if kind is SequenceAnalysis:
        return sequence_scores_table(titles, payloads)
    if kind is SavedImage:
        return image_table(titles, payloads)
    if kind is AuditResult:
        return audit_table(titles, payloads)
    if kind is AuditComparison:
        return audit_comparison_table(titles, payloads)
    return summaries_table(titles, [answer_of(p) for p in payloads])


def render_comparison(titles: Sequence[str], payloads: Sequence, *, key: str) -> None:
    """Both prompts, the numbers table, then each answer in the chosen colouring (or each image's top classes)."""
    measure = "prob"
    if any(answer_of(p) is not None for p in payloads):
        measure = measure_choice(key)
    table = comparison_table(titles, payloads)
    if table is None:
        st.caption("The two items are of different kinds: their numbers are not compared, only shown side by side.")
    else:
        st.dataframe(table, hide_index=True, width="stretch", key=f"{key}_table")
    for column, title, payload, side in zip(st.columns(len(payloads)), titles, payloads, "abcdefgh"):
        with column:
            st.markdown(f"**{markdown_literal(title)}**")
            st.markdown(f"*Asked*: {markdown_literal(asked(payload))}")
            answer = answer_of(payload)
            if answer is not None:
                render_token_heatmap(answer.tokens, key=f"{key}_{side}", measure=measure, chars_per_line=40)
            elif isinstance(payload, SavedImage):
                st.image(payload.analysis.model_input_png, width=160)
                render_class_probabilities(top_classes(payload), key=f"{key}_{side}",
                                           title=f"at temperature {payload.temperature:g}")
