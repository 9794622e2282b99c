"""The whole view of one text analysis: heatmap, curve, selected token, summaries, prompt tokens, download.

Used by the Text page for fresh results and by the Saved page to reopen a saved one exactly as it was.
"""
from __future__ import annotations

from functools import partial
from typing import Callable, Optional

import streamlit as st

from backend.schemas import Alternative, TextAnalysis
from components.measures import MEASURES
from components.summary_cards import render_summary_cards
from components.token_curve import render_token_curve
from components.token_detail import render_token_detail
from components.token_heatmap import render_token_heatmap


def analysis_caption(result: TextAnalysis) -> str:
    """One line: model, how many tokens and how they were made, temperature, device, time. A scored answer was
    given, not decoded: no decoding setting is named for it."""
    if result.mode == "score":
        verb, sampling = "scored", "given answer, not decoded"
    else:
        verb = f"generated ({result.stop_reason.replace('_', ' ')})"
        forced = sum(t.forced for t in result.tokens)
        verb += f", the first {forced} forced" if forced else ""
        sampling = f"sampled, top-p {result.top_p}, seed {result.seed}" if result.do_sample else "greedy"
    probabilities = ("probabilities as the server reports them (its top-k, before temperature)"
                     if result.exactness_note else f"probabilities at temperature {result.temperature:g}")
    return (f"{result.model} · {len(result.tokens)} tokens {verb} · {sampling} · {probabilities} · {result.device} · "
            f"{result.seconds:.1f} s")


def measure_choice(key: str) -> str:
    """The "Colour by" radio (widget key f"{key}_measure"); returns a key of MEASURES."""
    return st.radio("Colour by", list(MEASURES), format_func=lambda k: MEASURES[k].label, horizontal=True,
                    key=f"{key}_measure")


def render_selectable_heatmap(result: TextAnalysis, *, key: str, heatmap_key: str, chars_per_line: int = 72,
                              scale: float = 1.0) -> tuple[str, Optional[int]]:
    """The Colour by choice and the answer's heatmap, where a click selects a token (kept in
    st.session_state[f"{key}_selected"]); returns (the measure, the selected index or None)."""
    measure = measure_choice(key)
    selected = st.session_state.get(f"{key}_selected")
    if selected is not None and selected >= len(result.tokens):
        selected = None
    clicked = render_token_heatmap(result.tokens, key=heatmap_key, measure=measure, selected=selected,
                                   chars_per_line=chars_per_line, scale=scale,
                                   on_pick=lambda index: st.session_state.update({f"{key}_selected": index}))
    if clicked is not None and clicked != selected:
        st.session_state[f"{key}_selected"] = clicked
        st.rerun()
    return measure, selected


@st.fragment
def render_text_analysis(result: TextAnalysis, *, key: str,
                         on_continue: Optional[Callable[[int, Alternative], None]] = None) -> None:
    """Draw the analysis; the token selection lives in st.session_state[f"{key}_selected"]. A fragment: a
    colour-by change or a token click reruns this view only, not the page around it (its form, its save form).
    on_continue: when given, the token detail offers "Continue from here" on each other alternative and calls
    on_continue(selected answer token index, alternative)."""
    st.caption(analysis_caption(result))
    if result.exactness_note:
        st.info(result.exactness_note)
    measure, selected = render_selectable_heatmap(result, key=key, heatmap_key=f"{key}_answer")
    curve_column, detail_column = st.columns([3, 2])
    with curve_column:
        render_token_curve(result.tokens, key=f"{key}_answer", selected=selected)
    with detail_column:
        if selected is None:
            st.info("Click a token in the heatmap to see the alternatives the model weighed.")
        else:
            render_token_detail(result.tokens[selected], key=f"{key}_answer", mode=result.mode,
                                do_sample=result.do_sample, on_continue=None if on_continue is None else
                                partial(on_continue, selected))
    st.subheader("Sequence summaries")
    render_summary_cards(result.summaries, key=f"{key}_answer")
    with st.expander(f"Prompt tokens ({len(result.prompt_tokens)}), scored teacher-forced"):
        st.caption("How expected each input token was, given the tokens before it (the first token has no "
                   "context and is not scored).")
        st.code(result.model_input, language=None, wrap_lines=True)
        render_token_heatmap(result.prompt_tokens, key=f"{key}_prompt", measure=measure)
    st.download_button("Download this analysis (JSON)", lambda: result.model_dump_json(indent=2),  # made on click
                       file_name="uqlens-text-analysis.json", mime="application/json", key=f"{key}_download",
                       on_click="ignore")
