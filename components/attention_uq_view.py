"""RAUQ and UQAC shown at work on the Sequence page: RAUQ's selected head in each layer with the layer's value and
the recurrent confidence of every token; UQAC's attention chain drawn on the answer text. Pure builders
(rauq_rows, chain_html, rauq_head_note) and a thin render_attention_uq; every widget key starts with `key`."""
from __future__ import annotations

import html
from typing import Any, Mapping, Optional, Sequence

import streamlit as st

from backend.schemas import SequenceAnalysis, SequenceScore


def _score(result: SequenceAnalysis, name: str) -> Optional[SequenceScore]:
    return next((s for s in result.scores if s.name == name and s.value is not None), None)


def selected_heads(details: Mapping[str, Any]) -> dict[int, int]:
    """RAUQ's {layer: head} (0-based) from its details (the lists layers and heads)."""
    return dict(zip(details.get("layers", []), details.get("heads", [])))


def rauq_rows(details: Mapping[str, Any]) -> list[dict]:
    """One row per RAUQ layer, 1-based as people count: its selected head, its value, and whether it is the max."""
    return [{"Layer": layer + 1, "Selected head": head + 1, "1 - mean ln c": value,
             "RAUQ (the largest)": layer == int(details["layer"])}
            for layer, head, value in zip(details["layers"], details["heads"], details["per_layer"])]


def rauq_head_note(details: Mapping[str, Any], layer: int) -> str:
    """"RAUQ's head for layer L: head h" for a 0-based layer, '' for a layer RAUQ does not use."""
    head = selected_heads(details).get(layer)
    return "" if head is None else f"RAUQ's head for layer {layer + 1}: head {head + 1}"


def chain_html(pieces: Sequence[str], chain: Sequence[int], weights: Sequence[float], span: Sequence[int]) -> str:
    """The answer's token texts as HTML: the final-answer span outlined in blue, the other chain tokens shaded
    orange by their weight (relative to the largest), each with its weight in the title; everything escaped."""
    weight = dict(zip(chain, weights))
    top = max([w for i, w in weight.items() if i not in span] or [1.0]) or 1.0
    parts = []
    for i, piece in enumerate(pieces):
        text = html.escape(piece)
        if i in span:
            parts.append(f'<span title="final answer (token {i})" style="outline:2px solid #1f6feb;'
                         f'border-radius:3px">{text}</span>')
        elif i in weight:
            alpha = 0.25 + 0.75 * weight[i] / top
            parts.append(f'<span title="chain token {i}: attention {weight[i]:.3f}" style="background:rgba(255,140,'
                         f'0,{alpha:.2f});border-radius:3px">{text}</span>')
        else:
            parts.append(text)
    return '<div style="line-height:1.9;white-space:pre-wrap">' + "".join(parts) + "</div>"


def render_attention_uq(result: SequenceAnalysis, *, key: str) -> None:
    """RAUQ's heads and per-token confidence, and UQAC's chain on the answer; a hint when neither ran."""
    rauq, uqac = _score(result, "rauq"), _score(result, "uqac")
    if rauq is None and uqac is None:
        st.info("Select RAUQ or UQAC (models loaded in UQ Lens's process) to see the attention they read.")
        return
    pieces = [t.text for t in result.text.tokens]
    if rauq is not None:
        d = rauq.details
        st.markdown(f"**RAUQ {rauq.value:.3f}**: in each layer the head with the largest mean attention to the "
                    f"previous token carries the confidence, c_j = {d['alpha']:g} p_j + (1 - {d['alpha']:g}) "
                    f"attn_j c_(j-1); the value is the largest 1 - mean ln c, at layer {int(d['layer']) + 1}.")
        st.dataframe(rauq_rows(d), hide_index=True, key=f"{key}_rauq_heads")
        st.caption(f"Recurrent confidence c_j of each token at layer {int(d['layer']) + 1} (head "
                   f"{selected_heads(d)[int(d['layer'])] + 1}), beside the token's probability p_j.")
        st.line_chart({"c_j": d["confidence"], "p_j": [t.prob for t in result.text.tokens]})
    if uqac is not None:
        d = uqac.details
        st.markdown(f"**UQAC {uqac.value:.3g}**: the product of the probabilities of the {len(d['chain'])} chain "
                    f"tokens (the final answer alone: {d['answer_probability']:.3g}). Outlined: the final answer; "
                    f"orange: the tokens its attention leads back to, darker = more attention (hover for it).")
        st.markdown(chain_html(pieces, d["chain"], d["weights"], d["answer_span"]), unsafe_allow_html=True)
        st.dataframe([{"Token": i, "Text": pieces[i], "Attention from the chain (summed)": w, "p": p}
                      for i, w, p in zip(d["chain"], d["weights"], d["chain_probs"])], hide_index=True,
                     key=f"{key}_uqac_chain")
        st.caption("Attention from the chain: the weights the chain's newer tokens give this token, summed over "
                   "them when it was added, so it can exceed 1 (each row alone sums to 1).")
