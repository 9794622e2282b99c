"""The whole view of one text analysis: heatmap, curve, selected token, summaries, prompt tokens, download.

Used by the Text page for fresh results and by the Saved page to reopen a saved one exactly as it was.
"""
from __future__ import annotations

from typing import Callable, Optional

import streamlit as st

from backend.schemas import Alternative, TextAnalysis
from components.measures import MEASURES
from components.summary_cards import render_summary_cards
from components.token_curve import render_token_curve
from components.token_client import DEFAULT_MEASURE, render_measure_switch, render_token_picker
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
    """Draw the analysis. The "Colour by" switch and a token click change the view in the browser
    (components.token_client), with no rerun; st.session_state[f"{key}_selected"], when set, is the answer
    token drawn picked at first (a branch's forced token). A fragment: what does rerun (a branch) leaves the page around it
    (its form, its save form) alone. on_continue: when given, the token detail offers "Continue from here" on
    each other alternative and calls on_continue(answer token index, alternative), then reruns the page."""
    st.caption(analysis_caption(result))
    if result.exactness_note:
        st.info(result.exactness_note)
    answer, prompt = f"{key}_answer", f"{key}_prompt"
    render_measure_switch(key, {f"{answer}_heatmap": result.tokens, f"{prompt}_heatmap": result.prompt_tokens})
    render_token_heatmap(result.tokens, key=answer, measure=DEFAULT_MEASURE, client_side=True)
    curve_column, detail_column = st.columns([3, 2])
    with curve_column:
        render_token_curve(result.tokens, key=answer)
    with detail_column:
        branch = render_token_picker(key, result.tokens, heatmap_key=f"{answer}_heatmap", curve_key=f"{answer}_curve",
                                     mode=result.mode, do_sample=result.do_sample, branches=on_continue is not None,
                                     picked=st.session_state.get(f"{key}_selected"))
    if branch is not None and on_continue is not None:
        on_continue(*branch)
        st.rerun()
    st.subheader("Sequence summaries")
    render_summary_cards(result.summaries, key=answer)
    with st.expander(f"Prompt tokens ({len(result.prompt_tokens)}), scored teacher-forced"):
        st.caption("How expected each input token was, given the tokens before it (the first token has no "
                   "context and is not scored).")
        st.code(result.model_input, language=None, wrap_lines=True)
        render_token_heatmap(result.prompt_tokens, key=prompt, measure=DEFAULT_MEASURE, client_side=True)
    st.download_button("Download this analysis (JSON)", lambda: result.model_dump_json(indent=2),  # made on click
                       file_name="uqlens-text-analysis.json", mime="application/json", key=f"{key}_download",
                       on_click="ignore")
