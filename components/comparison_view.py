"""Two answers side by side: each side's own heatmap, then on the same tokens how much less (or more) sure the
other side's model is of them (log p own - log p other, nats, drawn on the text), and the numbers as a table."""
from __future__ import annotations

import streamlit as st

from backend.schemas.compare import ComparedSide, TextComparison
from components.text_analysis_view import measure_choice
from components.text_safety import markdown_literal
from components.token_heatmap import render_token_heatmap
from components.token_weights import WeightedText, render_token_weights

SIDE_LABELS = ("A", "B")
ALIGNMENT_NOTES = {"tokens": "both models split it into the same tokens: compared token by token",
                   "characters": "other tokenizers: the other model's tokens are summed over each token's characters",
                   "none": "the answer has no text for the other side to score"}


def side_heading(label: str, side: ComparedSide) -> str:
    """'A · model · T 0.7 · chat template on · generated (eos)'."""
    a = side.analysis
    how = "scored" if a.mode == "score" else f"generated ({a.stop_reason.replace('_', ' ')})"
    return (f"{label} · {a.model} · T {a.temperature:g} · chat template {'on' if a.chat_template else 'off'} · "
            f"{how}")


def difference_weights(side: ComparedSide) -> WeightedText:
    """The side's tokens weighted by own - other log p (nats; None where the other side has no token)."""
    tokens = side.analysis.tokens
    return WeightedText(labels=[t.text for t in tokens], weights=[d.difference for d in side.differences],
                        positions=[t.position for t in tokens], signed=True,
                        value_label="log p here - log p on the other side (nats)")


def differences_rows(side: ComparedSide) -> list[dict]:
    """One row per token: text, own log p, the other side's, the difference, how many other tokens it sums."""
    return [dict(token=repr(d.text), own_logprob=round(d.own_logprob, 4),
                 other_logprob=None if d.other_logprob is None else round(d.other_logprob, 4),
                 difference=None if d.difference is None else round(d.difference, 4), other_tokens=d.other_tokens)
            for d in side.differences]


def totals_caption(side: ComparedSide, other_label: str) -> str:
    """The answer's log p on its own side and on the other, and how the tokens were lined up."""
    other = "-" if side.other_logprob is None else f"{side.other_logprob:.2f}"
    return (f"log p of this answer: {side.own_logprob:.2f} here, {other} under {other_label} · "
            f"{ALIGNMENT_NOTES[side.alignment]}")


def render_side(side: ComparedSide, *, label: str, other_label: str, measure: str, key: str) -> None:
    """One column: heading, answer heatmap, the other side's view of the same tokens, the table."""
    st.markdown(f"**{markdown_literal(side_heading(label, side))}**")
    render_token_heatmap(side.analysis.tokens, key=f"{key}_{label}", measure=measure, chars_per_line=48)
    st.markdown(f"How sure is **{other_label}** of this answer? Red: less sure than {label}, blue: more sure.")
    st.caption(totals_caption(side, other_label))
    if side.alignment != "none":
        render_token_weights(difference_weights(side), key=f"{key}_{label}_difference", chars_per_line=48)
    with st.expander("Token by token"):
        st.dataframe(differences_rows(side), hide_index=True, key=f"{key}_{label}_table")


def render_comparison_view(result: TextComparison, *, key: str) -> None:
    """Both sides in two columns, with one Colour by choice for both heatmaps, and a JSON download."""
    measure = measure_choice(key)
    st.caption(f"Four analyses (both answers, each scored by the other side) in {result.seconds:.1f} s.")
    columns = st.columns(2)
    for column, side, label, other in zip(columns, (result.first, result.second), SIDE_LABELS, SIDE_LABELS[::-1]):
        with column:
            render_side(side, label=label, other_label=other, measure=measure, key=key)
    st.download_button("Download this comparison (JSON)", result.model_dump_json(indent=2),
                       file_name="uqlens-comparison.json", mime="application/json", key=f"{key}_download")
