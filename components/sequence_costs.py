"""What the selected methods will cost, shown before they run."""
from __future__ import annotations

from typing import Sequence

import streamlit as st

from backend.schemas import MethodCost


def passes_text(cost: MethodCost) -> str:
    """'12 LM passes × 8 sequences, 40 embeddings' in words; 'shared' when nothing extra is run."""
    parts = []
    if cost.lm_passes:
        batch = f" × {cost.lm_batch} sequences" if cost.lm_batch > 1 else ""
        parts.append(f"{cost.lm_passes} LM pass{'es' if cost.lm_passes != 1 else ''}{batch}")
    if cost.embedding_texts:
        parts.append(f"{cost.embedding_texts} embeddings")
    if cost.nli_pairs:
        parts.append(f"{cost.nli_pairs} NLI pairs")
    return ", ".join(parts) or "nothing extra"


def cost_rows(costs: Sequence[MethodCost], labels: dict[str, str]) -> list[dict[str, str]]:
    """One row per piece of evidence: what it is, its passes, estimated seconds, and the methods using it."""
    return [{"Step": c.label, "Passes": passes_text(c), "Estimated s": f"{c.seconds:.1f}",
             "Used by": ", ".join(labels.get(m, m) for m in c.methods)} for c in costs]


def total_seconds(costs: Sequence[MethodCost]) -> float:
    """Sum of the estimates (each piece of evidence is computed once)."""
    return sum(c.seconds for c in costs)


def render_costs(costs: Sequence[MethodCost], labels: dict[str, str], *, key: str) -> None:
    """The cost table and its total."""
    st.dataframe(cost_rows(costs, labels), key=f"{key}_costs", hide_index=True, width="stretch")
    st.caption(f"Estimated total ≈ {total_seconds(costs):.1f} s: passes × the seconds one pass took when timed on "
               "these models (a language-model pass is one decoding step over the batch shown; the timing includes "
               "the prompt, so it errs high). Answers that end early cost less.")
