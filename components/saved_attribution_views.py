"""Saved Attention & saliency views and Image results drawn again from their payload (SavedAttention,
SavedImage) with the components their pages use; every widget key starts with the caller's key."""
from __future__ import annotations

import math
from typing import Sequence

import streamlit as st

from backend.schemas.image import ClassScore
from backend.schemas.saved import SavedAttention, SavedImage
from backend.schemas.text_attention import InputToken
from components.attention_matrix import render_attention_matrix, render_head_grid
from components.class_probabilities import distribution_at, render_class_probabilities, scores_at
from components.pass_spread import render_entropy_split, render_pass_spread, uncertainty_frame
from components.saliency_matrix import render_saliency_matrix
from components.saliency_overlay import render_saliency_grid
from components.text_safety import markdown_literal
from components.token_heatmap import render_token_heatmap
from components.token_units import hidden_share, token_units, unit_values
from components.token_weights import WeightedText, render_token_weights

TOP_K = 5
SAVED_OPACITY = 0.65


def weighted_row(tokens: Sequence[InputToken], row: Sequence[float], *, granularity: str, show_template: bool,
                 position: int, answer_start: int, signed: bool, value_label: str) -> WeightedText:
    """One row of weights over the input positions (len(row) <= len(tokens)) as units of text, the explained
    position outlined and the answer on its own line."""
    units = token_units(tokens, granularity=granularity, show_template=show_template)
    return WeightedText(labels=[u.label for u in units], weights=unit_values(row, units),
                        positions=[u.position for u in units], signed=signed, value_label=value_label,
                        highlight=next((i for i, u in enumerate(units) if position in u.members), None),
                        breaks=[next((i for i, u in enumerate(units) if u.position >= answer_start), len(units))])


def render_saved_attention(saved: SavedAttention, *, key: str) -> None:
    """The answer with the explained token, where it looked (attention) and what drives it (saliency)."""
    analysis, token = saved.analysis, saved.analysis.tokens[saved.selected]
    st.markdown(f"**Prompt**: {markdown_literal(analysis.prompt)}")
    render_token_heatmap(analysis.tokens, key=f"{key}_answer", measure="entropy", selected=saved.selected)
    st.markdown(f"**Explained** {markdown_literal(repr(token.text))} at position {token.position} "
                f"(p = {token.prob:.3f}, entropy {token.entropy:.3f} nats) · shown as {saved.granularity}s"
                f"{', chat template shown' if saved.show_template else ''}.")
    attention_tab, saliency_tab = st.tabs(["Attention", "Saliency"])
    with attention_tab:
        render_saved_attention_view(saved, key=key)
    with saliency_tab:
        render_saved_saliency(saved, key=key)


def render_saved_attention_view(saved: SavedAttention, *, key: str) -> None:
    """The saved attention view: the explained token's row on the text, the matrix window and the head grid."""
    result = saved.attention
    if result is None or result.view is None:
        st.info("No attention view was saved with this item.")
        return
    view, position = result.view, saved.analysis.tokens[saved.selected].position
    row = view.answer_rows[saved.selected]
    st.markdown(f"**Where it looked** ({view.label}): the attention of the step that produced it.")
    render_token_weights(weighted_row(result.tokens, row, granularity=saved.granularity,
                                      show_template=saved.show_template, position=position,
                                      answer_start=result.answer_start, signed=False,
                                      value_label="attention weight"), key=f"{key}_looked")
    hidden = hidden_share(row, token_units(result.tokens, granularity=saved.granularity,
                                           show_template=saved.show_template))
    if hidden > 0:
        st.caption(f"{hidden:.0%} of this row's attention falls on the hidden chat template (raw weights shown).")
    matrix_column, grid_column = st.columns([3, 2])
    with matrix_column:
        render_attention_matrix(view.matrix, key=key, title=f"{view.label}: query x key")
    with grid_column:
        render_head_grid(view.grid, key=key, selected=(view.layer, view.head) if view.aggregation == "head" else None)


def render_saved_saliency(saved: SavedAttention, *, key: str) -> None:
    """The saved saliency result: the explained token's scores on the text, then the whole-answer matrix."""
    result = saved.saliency
    if result is None:
        st.info("No saliency was computed for this view before it was saved.")
        return
    position = saved.analysis.tokens[saved.selected].position
    st.caption(f"{result.method_label}, target {result.target_label.lower()} · {len(result.rows)} token(s) "
               f"explained · normalisation: {result.normalisation_description}")
    row = next((r for r in result.rows if r.position == position), None)
    if row is not None:
        if row.convergence_delta is not None:
            st.caption(f"Convergence delta {row.convergence_delta:+.3f} (sum of raw scores minus the target's change; "
                       f"near 0 = the scores account for the whole change).")
        render_token_weights(weighted_row(result.tokens, row.scores, granularity=saved.granularity,
                                          show_template=saved.show_template, position=position,
                                          answer_start=result.answer_start, signed=result.signed,
                                          value_label=f"score ({result.normalisation})"), key=f"{key}_saliency")
    if len(result.rows) > 1:
        render_saliency_matrix(result, key=key, granularity=saved.granularity, show_template=saved.show_template,
                               selected_position=position)


def top_classes(saved: SavedImage) -> list[ClassScore]:
    """The saved top classes with their probabilities at the saved temperature (from the saved logits)."""
    return scores_at(saved.analysis.top_k, distribution_at(saved.analysis.logits, saved.temperature))


def render_saved_image(saved: SavedImage, *, key: str) -> None:
    """The crop, the top classes at the saved temperature, MC dropout vs. TTA, and the saliency overlays."""
    result = saved.analysis
    picture, numbers = st.columns([2, 3])
    with picture:
        st.image(result.model_input_png, caption="What the model saw", width="stretch")
        st.caption(f"{markdown_literal(result.image.name)}: {result.image.width} x {result.image.height} "
                   f"{result.image.format}. {result.preprocessing}.")
    with numbers:
        stats = distribution_at(result.logits, saved.temperature, top_k=TOP_K)
        render_class_probabilities(top_classes(saved), key=f"{key}_prediction",
                                   title=f"Top classes at temperature {saved.temperature:g}")
        st.caption(f"Top probability {stats.top_probs[0]:.3f} (higher = more confident) · entropy "
                   f"{stats.entropy:.3f} nats of at most ln {len(result.logits)} = {result.max_entropy:.2f} (higher = "
                   f"more uncertain) · top-2 margin {stats.margin:.3f}")
    if saved.uncertainty:
        st.subheader("Epistemic vs. aleatoric")
        st.table(uncertainty_frame(saved.uncertainty))
        classes = len(result.logits)
        st.caption(f"Entropies in nats, from 0 (certain) to ln {classes} = {math.log(classes):.2f} (uniform); "
                   f"higher = more uncertain.")
        render_entropy_split(saved.uncertainty, key=f"{key}_uncertainty")
        for column, spread in zip(st.columns(len(saved.uncertainty)), saved.uncertainty):
            with column:
                st.markdown(f"**{spread.label}** · {spread.passes} passes")
                render_pass_spread(spread, key=f"{key}_{spread.method}")
    if saved.saliency:
        first = saved.saliency[0]
        st.subheader("Saliency")
        value = f"{first.target_value:.3f} nats" if first.target == "entropy" else f"p = {first.target_value:.3f}"
        st.markdown(f"Explaining **{markdown_literal(first.target_label)}** ({value}).")
        render_saliency_grid(first.model_input_png, [m for r in saved.saliency for m in r.maps],
                             key=f"{key}_saliency", opacity=SAVED_OPACITY)
