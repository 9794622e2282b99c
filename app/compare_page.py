"""Side by side page: two models, or one model at two temperatures or with and without the chat template, on the
same prompt; both answers with their heatmaps, and each side's model scoring the other's answer."""
from __future__ import annotations

import json
from typing import Optional

import streamlit as st
from pydantic import ValidationError

from app.compare_services import compare_text
from app.long_work import forget_stop, run_page_request
from app.services import default_model_index, get_client, model_ids
from backend.schemas import MAX_NEW_TOKENS, TextRequest
from backend.schemas.compare import TextComparison, TextComparisonRequest
from backend.schemas.text import DEFAULT_MAX_NEW_TOKENS
from components.comparison_view import SIDE_LABELS, render_comparison_view
from components.errors import show_error
from components.save_form import render_save_form

KEY = "compare"
REQUEST = f"{KEY}_request"
SIDE_DEFAULTS = ({"temperature": 1.0, "chat_template": True}, {"temperature": 0.5, "chat_template": True})


def side_settings(label: str, defaults: dict, text_models: list[str]) -> dict:
    """One side's model, temperature, chat template and decoding, in the current column."""
    st.markdown(f"**Side {label}**")
    model = st.selectbox("Model", text_models, index=default_model_index(text_models, "text"),
                         key=f"{KEY}_{label}_model")
    temperature = st.number_input("Temperature", 0.05, 10.0, defaults["temperature"], 0.05,
                                  key=f"{KEY}_{label}_temperature",
                                  help="divides the logits, for sampling and for the probabilities shown")
    chat_template = st.checkbox("Chat template", value=defaults["chat_template"], key=f"{KEY}_{label}_template")
    decoding = st.radio("Decoding", ["greedy", "sample"], horizontal=True, key=f"{KEY}_{label}_decoding")
    return dict(model=model, temperature=float(temperature), chat_template=chat_template,
                do_sample=decoding == "sample")


def read_form() -> Optional[dict]:
    """The prompt and both sides' settings; the request fields when Compare is pressed."""
    text_models = model_ids("text")
    with st.form(f"{KEY}_form"):
        prompt = st.text_area("Prompt", key=f"{KEY}_prompt", height=90,
                              placeholder="One prompt, answered by both sides")
        answer = st.text_area("Answer to score (optional)", key=f"{KEY}_answer", height=68,
                              help="Both sides score this answer instead of generating their own.")
        columns = st.columns(3)
        sides = []
        for column, label, defaults in zip(columns, SIDE_LABELS, SIDE_DEFAULTS):
            with column:
                sides.append(side_settings(label, defaults, text_models))
        with columns[2]:
            max_new_tokens = st.number_input("Max new tokens", 1, MAX_NEW_TOKENS, DEFAULT_MAX_NEW_TOKENS,
                                             key=f"{KEY}_max_new_tokens")
            seed = st.number_input("Seed", 0, 2**31 - 1, 0, key=f"{KEY}_seed", help="sampling only")
        submitted = st.form_submit_button("Compare", type="primary")
    if not submitted:
        return None
    shared = dict(prompt=prompt, answer=answer if answer.strip() else None, max_new_tokens=int(max_new_tokens),
                  seed=int(seed))
    return dict(first={**shared, **sides[0]}, second={**shared, **sides[1]})


def validated_request(fields: dict) -> Optional[str]:
    """The comparison request as JSON, or None after saying what to change."""
    try:
        return TextComparisonRequest(first=TextRequest(**fields["first"]),
                                     second=TextRequest(**fields["second"])).model_dump_json()
    except ValidationError as exc:
        show_error(exc)
        return None


def run_comparison(request_json: str) -> Optional[TextComparison]:
    """The cached comparison, with progress and Stop on first computation; a clear message on failure."""
    return run_page_request(lambda: compare_text(request_json), key=KEY, request_json=request_json,
                            request_key=REQUEST)


st.title("Side by side")
st.caption("Two models, or one model at two settings, on the same prompt: how sure is each of its own answer, and "
           "of the other's?")
fields = read_form()
if fields is not None:
    request_json = validated_request(fields)
    if request_json is not None:
        st.session_state[REQUEST] = request_json
        forget_stop(KEY)
current = st.session_state.get(REQUEST)
if current:
    comparison = run_comparison(current)
    if comparison is not None:
        render_comparison_view(comparison, key=KEY)
        first = comparison.first.analysis
        render_save_form(key=KEY, kind="comparison", model=f"{first.model} | {comparison.second.analysis.model}",
                         default_title=f"Side by side: {first.prompt.strip()}",
                         payload=comparison.model_dump(mode="json"), request=json.loads(current),
                         content_key=current, save=get_client().save)
