"""Attention & saliency page: where the model looked, and which input tokens drive an answer token's probability,
its choice over an alternative, or the model's uncertainty at that step."""
from __future__ import annotations

import json
import time
from typing import Optional

import streamlit as st
from pydantic import ValidationError

from app.attention_tab import KEY, answer_breaks, attention_request, attention_tab
from app.attribution_services import (DELTA_WARNING, default_token, merge_saliency, position_chunks, relative_delta,
                                      saliency_catalog, text_attention, text_saliency, with_more_steps)
from app.page_state import TEXT_REQUEST, text_page_request
from app.services import NEEDS_IN_PROCESS, analyze_text, default_model_index, get_client, model_ids
from backend.schemas import MAX_NEW_TOKENS, TextAnalysis, TextRequest
from backend.schemas.saved import SavedAttention
from backend.schemas.text_saliency import SaliencyMethodInfo, SaliencyRow, TextSaliency, TextSaliencyRequest
from components.errors import EXPECTED_ERRORS, REFUSED_ERRORS, refused, show_error
from components.parameter_controls import choice_label, render_parameter_controls
from components.saliency_matrix import render_saliency_matrix, unscored_note
from components.save_form import render_save_form
from components.text_safety import markdown_literal
from components.token_heatmap import render_token_heatmap
from components.token_units import token_units, unit_values
from components.token_weights import WeightedText, render_token_weights

CHUNK_TOKENS = 16


def use_text_page_request() -> None:
    """Analyse what the Text page analysed last (its exact request, so its cached result is reused)."""
    request_json = st.session_state[TEXT_REQUEST]
    request = TextRequest.model_validate_json(request_json)
    st.session_state[f"{KEY}_request"] = request_json
    st.session_state[f"{KEY}_prompt"] = request.prompt
    st.session_state[f"{KEY}_answer"] = request.answer or ""
    st.session_state[f"{KEY}_selected"] = None


def read_form() -> Optional[dict]:
    """Prompt, optional answer to score and model settings; the request fields when submitted."""
    text_request = text_page_request()
    if text_request and text_request != st.session_state.get(f"{KEY}_request"):
        st.button("Use the Text page's last prompt", key=f"{KEY}_use_text", on_click=use_text_page_request,
                  help="analyse exactly what the Text page analysed (same answer, same decoding settings)")
    text_models = model_ids("text", needs="attention", why=NEEDS_IN_PROCESS)
    with st.form(f"{KEY}_form"):
        prompt = st.text_area("Prompt", key=f"{KEY}_prompt", height=90,
                              placeholder="Ask a question, or type the start of a text to continue")
        answer = st.text_area("Answer to score (optional)", key=f"{KEY}_answer", height=68,
                              help="Give an answer to explain it instead of generating one.")
        settings = st.expander("Model settings")
        left, middle, right = settings.columns(3)
        model = left.selectbox("Model", text_models, key=f"{KEY}_model",
                               index=default_model_index(text_models, "text"))
        max_new_tokens = middle.number_input("Max new tokens", 1, MAX_NEW_TOKENS, 32, key=f"{KEY}_max_new_tokens",
                                             help="greedy decoding")
        chat_template = right.checkbox("Chat template", value=True, key=f"{KEY}_chat_template")
        submitted = st.form_submit_button("Analyze", type="primary")
    if not submitted:
        return None
    return dict(model=model, prompt=prompt, answer=answer if answer.strip() else None, chat_template=chat_template,
                max_new_tokens=int(max_new_tokens))


def choose_token(analysis: TextAnalysis) -> int:
    """The answer heatmap (coloured by entropy); returns the index of the selected answer token (default: the
    most uncertain content token, not an end-of-turn marker or whitespace)."""
    selected = st.session_state.get(f"{KEY}_selected")
    if selected is None or selected >= len(analysis.tokens):
        selected = default_token(analysis.tokens)
    clicked = render_token_heatmap(analysis.tokens, key=f"{KEY}_answer", measure="entropy", selected=selected,
                                   on_pick=lambda index: st.session_state.update({f"{KEY}_selected": index}))
    if clicked is not None and clicked != selected:
        st.session_state[f"{KEY}_selected"] = clicked
        st.rerun()
    token = analysis.tokens[selected]
    st.markdown(f"**Explaining** {markdown_literal(repr(token.text))} at position {token.position} "
                f"(p = {token.prob:.3f}, entropy {token.entropy:.3f} nats). Click another answer token to change.")
    return selected


def describe_method(method: SaliencyMethodInfo, analysis: TextAnalysis) -> None:
    """What the method is, how to read it, its paper and its cost on this sequence."""
    st.caption(f"{method.description} Reading: {method.higher_is}. Cost: {method.cost}; here "
               f"{len(analysis.tokens)} answer tokens and {len(analysis.ids)} tokens in all. Paper: {method.paper}.")


def read_saliency_form(analysis: TextAnalysis, selected: int) -> Optional[TextSaliencyRequest]:
    """Method, target, alternative and parameters; the request when Explain is pressed."""
    catalog = saliency_catalog()
    methods = {m.name: m for m in catalog.methods}
    targets = {t.name: t for t in catalog.targets}
    left, right = st.columns(2)
    name = left.selectbox("Method", list(methods), format_func=lambda n: methods[n].label, key=f"{KEY}_method")
    method = methods[name]
    target = right.radio("Target", list(targets), format_func=lambda n: targets[n].label, key=f"{KEY}_target",
                         horizontal=True, disabled=not method.uses_target,
                         help="; ".join(f"{t.label}: {t.description}" for t in targets.values()))
    describe_method(method, analysis)
    token = analysis.tokens[selected]
    alternatives = {a.id: a for a in token.top_k if a.id != token.id}
    with st.form(f"{KEY}_saliency_form"):
        alternative = None
        if method.uses_target and targets[target].needs_alternative and alternatives:
            alternative = st.selectbox("Alternative (selected token only)", list(alternatives),
                                       format_func=lambda i: f"{alternatives[i].text!r} (p = {alternatives[i].prob:.3f})",
                                       key=f"{KEY}_alternative",
                                       help="for the whole answer, each token is compared with its runner-up")
        parameters = render_parameter_controls(method.parameters, key=f"{KEY}_{name}")
        left, right = st.columns(2)
        scope = left.radio("Tokens", ["selected", "all"], key=f"{KEY}_scope", horizontal=True,
                           format_func={"selected": "Selected token", "all": "Whole answer (matrix)"}.get)
        normalisation = right.selectbox("Normalisation", list(catalog.normalisations), key=f"{KEY}_normalisation",
                                        format_func=lambda n: choice_label(catalog.normalisations[n]),
                                        help="how each row of scores is scaled for display")
        submitted = st.form_submit_button("Explain", type="primary")
    if not submitted:
        return None
    return TextSaliencyRequest(
        model=analysis.model, ids=analysis.ids, answer_start=analysis.answer_start, method=name, target=target,
        positions=[token.position] if scope == "selected" else None, temperature=analysis.temperature,
        alternative_id=alternative if scope == "selected" else None, parameters=parameters,
        normalisation=normalisation)


def more_steps(request_json: str, steps: int, maximum: int) -> None:
    """Rerun the shown saliency request with twice the steps, and set the form's steps control to match."""
    request = with_more_steps(TextSaliencyRequest.model_validate_json(request_json), steps, maximum)
    st.session_state[f"{KEY}_saliency_request"] = request.model_dump_json()
    st.session_state[f"{KEY}_{request.method}_steps"] = request.parameters["steps"]


def warn_unconverged(result: TextSaliency, row: SaliencyRow, relative: float) -> None:
    """A warning that the scores miss part of the target's change, with a button that doubles the steps."""
    steps = int(result.parameters["steps"])
    method = next(m for m in saliency_catalog().methods if m.name == result.method)
    maximum = next(p.maximum for p in method.parameters if p.name == "steps")
    text, button = st.columns([5, 1])
    text.warning(f"Not converged: the scores miss {relative:.0%} of the target's change (convergence delta "
                 f"{row.convergence_delta:+.3f} of a change of {row.target_value - row.baseline_value:+.3f} nats; "
                 f"warning above {DELTA_WARNING:.0%}) at {steps} steps, so they do not yet add up to what the "
                 f"inputs changed. " + ("More steps shrink it." if steps < maximum else
                                        f"{maximum} steps is the most; try another baseline."))
    button.button("More steps", key=f"{KEY}_more_steps", disabled=steps >= maximum,
                  on_click=more_steps, args=(st.session_state[f"{KEY}_saliency_request"], steps, maximum),
                  help=f"explain again with {min(maximum, 2 * steps)} steps (twice the cost)")


def render_saliency_row(result: TextSaliency, position: int, granularity: str, show_template: bool) -> None:
    """The selected token's scores drawn on the text, with its target values and convergence delta."""
    row = next(r for r in result.rows if r.position == position)
    versus = f" vs. {markdown_literal(repr(row.alternative.text))}" if row.alternative else ""
    st.markdown(f"**What drives {markdown_literal(repr(row.text))}**{versus}: {result.method_label}, target "
                f"{result.target_label.lower()}.")
    columns = st.columns(3)
    if row.target_value is not None:
        columns[0].metric("Target at the input", f"{row.target_value:.3f} nats", help=result.target_label)
    if row.baseline_value is not None:
        columns[1].metric("Target at the baseline", f"{row.baseline_value:.3f} nats",
                          help=f"{result.target_label}, with the baseline input ({result.parameters.get('baseline')})")
    relative = relative_delta(row)
    if row.convergence_delta is not None:
        columns[2].metric("Convergence delta", f"{row.convergence_delta:+.3f}",
                          delta=None if relative is None else f"{relative:.0%} of the change",
                          delta_color="inverse" if relative is not None and relative > DELTA_WARNING else "off",
                          help="sum of raw scores minus (target at input - target at baseline); "
                               "near 0 = the scores account for the whole change; raise the steps when it is large")
    if relative is not None and relative > DELTA_WARNING:
        warn_unconverged(result, row, relative)
    units = token_units(result.tokens, granularity=granularity, show_template=show_template)
    highlight = next((i for i, u in enumerate(units) if position in u.members), None)
    render_token_weights(WeightedText(labels=[u.label for u in units], weights=unit_values(row.scores, units),
                                      positions=[u.position for u in units], signed=result.signed,
                                      value_label=f"score ({result.normalisation})", highlight=highlight,
                                      breaks=answer_breaks(units, result.answer_start)),
                         key=f"{KEY}_saliency")
    st.caption(f"Normalisation: {result.normalisation_description} (raw = score x {row.scale:.4g}). "
               f"{unscored_note(result)}")


def compute_saliency(request: TextSaliencyRequest, answer_tokens: int) -> TextSaliency:
    """The request's result. A whole-answer request of a method whose cost grows with the explained tokens runs
    CHUNK_TOKENS answer tokens per call, with a progress bar and an estimate of the time left."""
    method = next(m for m in saliency_catalog().methods if m.name == request.method)
    if request.positions is not None or not method.cost_grows_with_tokens or answer_tokens <= CHUNK_TOKENS:
        with st.spinner("Computing saliency…"):
            return text_saliency(request.model_dump_json())
    chunks = position_chunks(list(range(request.answer_start, request.answer_start + answer_tokens)), CHUNK_TOKENS)
    progress = st.progress(0.0, text=f"Explaining {answer_tokens} answer tokens ({method.cost})…")
    parts, done, started = [], 0, time.perf_counter()
    for chunk in chunks:
        parts.append(text_saliency(request.model_copy(update={"positions": chunk}).model_dump_json()))
        done += len(chunk)
        left = (time.perf_counter() - started) / done * (answer_tokens - done)
        progress.progress(done / answer_tokens, text=f"Explained {done} of {answer_tokens} answer tokens · about "
                                                     f"{left:.0f} s left")
    progress.empty()
    return merge_saliency(parts)


def saliency_tab(analysis: TextAnalysis, selected: int, granularity: str, show_template: bool) -> None:
    """Saliency controls, then the selected token's scores on the text and the answer's matrix."""
    request = read_saliency_form(analysis, selected)
    if request is not None:
        st.session_state[f"{KEY}_saliency_request"] = request.model_dump_json()
    request_json = st.session_state.get(f"{KEY}_saliency_request")
    if not request_json or TextSaliencyRequest.model_validate_json(request_json).ids != analysis.ids:
        st.info("Pick a method and a target, then press Explain.")
        return
    try:
        result = compute_saliency(TextSaliencyRequest.model_validate_json(request_json), len(analysis.tokens))
    except EXPECTED_ERRORS as exc:
        show_error(exc)
        return
    st.caption(f"{len(result.rows)} token(s) explained · {result.forward_sequences} sequences forward, "
               f"{result.backward_passes} backward passes · {result.seconds:.1f} s")
    position = analysis.tokens[selected].position
    if any(r.position == position for r in result.rows):
        render_saliency_row(result, position, granularity, show_template)
    else:
        st.info("The selected token was not explained in this run; pick 'Whole answer' or press Explain again.")
    if len(result.rows) > 1:
        st.markdown("**The whole answer**: each row is one answer token, each column an earlier input.")
        render_saliency_matrix(result, key=KEY, granularity=granularity, show_template=show_template,
                               selected_position=position)


def save_view(analysis: TextAnalysis, selected: int, granularity: str, show_template: bool) -> None:
    """The save form of this view: the answer, the explained token, the attention view and the saliency shown
    (gathered from the caches only when Save is pressed)."""
    attention_json = attention_request(analysis, granularity)
    saliency_json = st.session_state.get(f"{KEY}_saliency_request")
    if saliency_json and TextSaliencyRequest.model_validate_json(saliency_json).ids != analysis.ids:
        saliency_json = None

    def payload() -> dict:
        try:
            attention = text_attention(attention_json)
            saliency = compute_saliency(TextSaliencyRequest.model_validate_json(saliency_json),
                                        len(analysis.tokens)) if saliency_json else None
        except REFUSED_ERRORS:
            attention, saliency = None, None
        return SavedAttention(analysis=analysis, selected=selected, granularity=granularity,
                              show_template=show_template, attention=attention,
                              saliency=saliency).model_dump(mode="json")

    request_json = st.session_state[f"{KEY}_request"]
    render_save_form(key=KEY, kind="attention", model=analysis.model, default_title=analysis.prompt.strip(),
                     payload=payload, request=json.loads(request_json),
                     content_key=json.dumps([request_json, selected, granularity, show_template, attention_json,
                                             saliency_json]),
                     form_key=json.dumps([request_json, selected, granularity, show_template, saliency_json]),
                     save=get_client().save)


def run_page() -> None:
    st.title("Attention & saliency")
    st.caption("Where the model looked while writing its answer, and which input tokens drive each answer token: "
               "its probability, its choice over an alternative, or the model's uncertainty (entropy) at that step.")
    fields = read_form()
    if fields is not None:
        try:
            st.session_state[f"{KEY}_request"] = TextRequest(**fields).model_dump_json()
            st.session_state[f"{KEY}_selected"] = None
        except ValidationError as exc:
            show_error(exc)
    request_json = st.session_state.get(f"{KEY}_request")
    if not request_json:
        return
    try:
        with st.spinner("Loading the model (first use only) and generating…"):
            analysis = analyze_text(request_json)
    except EXPECTED_ERRORS as exc:
        show_error(exc, kept="Your prompt and settings are kept.", retry_key=f"{KEY}_retry")
        if refused(exc):
            st.session_state.pop(f"{KEY}_request")
        return
    if not analysis.tokens:
        st.warning("The answer is empty; there is nothing to explain.")
        return
    selected = choose_token(analysis)
    left, right = st.columns(2)
    granularity = left.radio("Show", ["token", "word"], format_func={"token": "Tokens", "word": "Words"}.get,
                             key=f"{KEY}_granularity", horizontal=True,
                             help="words: sub-word tokens grouped; weights and scores summed over a word's tokens")
    show_template = right.checkbox("Show the chat template", value=False, key=f"{KEY}_show_template",
                                   help="the system prompt and role markers the model reads around your prompt")
    attention, saliency = st.tabs(["Attention", "Saliency"])
    with attention:
        attention_tab(analysis, selected, granularity, show_template)
    with saliency:
        saliency_tab(analysis, selected, granularity, show_template)
    save_view(analysis, selected, granularity, show_template)


run_page()
