"""Text page: generate (or score) an answer and see the model's uncertainty on every token."""
from __future__ import annotations

import json
from functools import partial
from typing import Optional

import streamlit as st
from pydantic import ValidationError

from app.branching import ask_branch, render_branches, render_open_buttons, shown_analysis
from app.live_generation import run_text_request
from app.long_work import forget_stop
from app.page_state import (TEXT, TEXT_AUTORUN, TEXT_CHAT_TEMPLATE, TEXT_DECODING, TEXT_MAX_NEW_TOKENS, TEXT_PROMPT,
                            TEXT_REQUEST)
from app.services import default_model_index, get_client, model_ids
from backend.schemas import MAX_NEW_TOKENS, TextAnalysis, TextRequest
from backend.schemas.branches import node_analysis
from backend.schemas.text import DEFAULT_MAX_NEW_TOKENS
from components.errors import show_error
from components.presenter_view import render_presenter_view
from components.save_form import render_save_form
from components.saved_link import PRESENT, VIEW_PARAMETER
from components.text_analysis_view import render_text_analysis

KEY = TEXT


def read_form() -> Optional[dict]:
    """The prompt and settings form; returns the request fields when submitted (or auto-run from an example)."""
    text_models = model_ids("text")
    with st.form(f"{KEY}_form"):
        prompt = st.text_area("Prompt", key=TEXT_PROMPT, height=100,
                              placeholder="Ask a question, or type the start of a text to continue")
        answer = st.text_area("Answer to score (optional)", key=f"{KEY}_answer", height=68,
                              help="Give an answer here to score it token by token instead of generating one.")
        settings = st.expander("Model and generation settings")
        left, middle, right = settings.columns(3)
        model = left.selectbox("Model", text_models, index=default_model_index(text_models, "text"),
                               key=f"{KEY}_model")
        max_new_tokens = middle.number_input("Max new tokens", 1, MAX_NEW_TOKENS, DEFAULT_MAX_NEW_TOKENS,
                                             key=TEXT_MAX_NEW_TOKENS)
        decoding = right.radio("Decoding", ["greedy", "sample"], horizontal=True, key=TEXT_DECODING,
                               help="greedy: always the most likely token; sample: draw from the distribution. "
                                    "Neither applies to an answer given to score.")
        left, middle, right, last = settings.columns(4)
        temperature = left.number_input("Temperature", 0.05, 10.0, 1.0, 0.05, key=f"{KEY}_temperature",
                                        help="divides the logits, for sampling and for the probabilities shown")
        top_p = middle.number_input("Top-p", 0.01, 1.0, 1.0, 0.01, key=f"{KEY}_top_p",
                                    help="sampling only: keep the smallest set of tokens with this much mass")
        seed = right.number_input("Seed", 0, 2**31 - 1, 0, key=f"{KEY}_seed", help="sampling only")
        chat_template = last.checkbox("Chat template", value=True, key=TEXT_CHAT_TEMPLATE,
                                      help="wrap the prompt as a user turn in the model's chat format")
        submitted = st.form_submit_button("Analyze", type="primary")
    if not (submitted or st.session_state.pop(TEXT_AUTORUN, False)):
        return None
    return dict(model=model, prompt=prompt, answer=answer if answer.strip() else None, chat_template=chat_template,
                max_new_tokens=int(max_new_tokens), do_sample=decoding == "sample", temperature=float(temperature),
                top_p=float(top_p), seed=int(seed))


def validated_request(fields: dict) -> Optional[str]:
    """The request as JSON, or None after telling the user what to change."""
    try:
        return TextRequest(**fields).model_dump_json()
    except ValidationError as exc:
        show_error(exc)
        return None


def run_analysis(request_json: str) -> Optional[TextAnalysis]:
    """The analysis: generated live (tokens drawn as they come, Stop keeps them) or cached with a progress bar and
    a Stop button; a clear message on failure (app.live_generation.run_text_request)."""
    return run_text_request(request_json, key=KEY, request_key=TEXT_REQUEST)


def presenting() -> bool:
    """The Presenter view toggle, kept in the address (`?view=present`) so that the view can be linked and
    reloaded."""
    present = st.toggle("Presenter view", value=st.query_params.get(VIEW_PARAMETER) == PRESENT,
                        key=f"{KEY}_present", help="for a class or a room: the prompt in large type, the heatmap "
                                                   "and the curve only; the form folds away above")
    if present:
        st.query_params[VIEW_PARAMETER] = PRESENT
    else:
        st.query_params.pop(VIEW_PARAMETER, None)
    return present


title_column, toggle_column = st.columns([3, 1], vertical_alignment="center")
with toggle_column:
    present = presenting()
if not present:
    title_column.title("Text: token-level uncertainty")
with st.expander("Prompt and settings") if present else st.container():
    fields = read_form()
if fields is not None:
    request_json = validated_request(fields)
    if request_json is not None:
        st.session_state[TEXT_REQUEST] = request_json
        st.session_state[f"{KEY}_selected"] = None
        forget_stop(KEY)
current = st.session_state.get(TEXT_REQUEST)
if current:
    analysis = run_analysis(current)
    if analysis is not None and present:
        render_presenter_view(shown_analysis(current, analysis), key=KEY)
    elif analysis is not None:
        tree, shown = render_branches(current, analysis)
        render_text_analysis(node_analysis(tree, shown.id), key=KEY, on_continue=partial(ask_branch, shown.id))
        render_open_buttons(shown, can_attend=shown.analysis.engine == "in-process")
        if len(tree.nodes) == 1:
            render_save_form(key=KEY, kind="text", model=analysis.model, default_title=analysis.prompt.strip(),
                             payload=analysis.model_dump(mode="json"), request=json.loads(current),
                             content_key=current, save=get_client().save)
        else:  # the whole tree, saved as one "branches" item
            render_save_form(key=KEY, kind="branches", model=analysis.model,
                             default_title=f"{analysis.prompt.strip()} ({len(tree.nodes)} branches)",
                             payload=tree.model_dump(mode="json"), request=json.loads(current),
                             content_key=f"{current}#branches={len(tree.nodes)}", save=get_client().save)
