"""Sequence uncertainty page: scores from the literature on one answer, each shown with the evidence it came from
(the K samples and their meanings, the similarity graph, SAR's token weights), and their cost before they run.

Every text model is offered, served ones too; a method whose `requires` the chosen model lacks (ModelInfo.
capabilities) is shown greyed out with the reason and never sent, and the methods that are estimates on that model
(MethodInfo.exact_requires: the token entropies of a served model) say so."""
from __future__ import annotations

import json
from typing import Optional

import streamlit as st
from pydantic import ValidationError

from app.page_state import TEXT_REQUEST, text_page_request
from app.sequence_services import analyze_sequence, estimate_cost, sequence_methods
from app.services import default_model_index, get_client, is_served, list_models, model_ids, model_info
from backend.schemas import (DEFAULT_SAMPLES, DEFAULT_SIMILARITY_THRESHOLD, MAX_SAMPLES,
                             MIN_SAMPLES, MethodInfo, ModelInfo, SequenceAnalysis, SequenceRequest, TextRequest)
from backend.schemas.sequence import DEFAULT_SAMPLE_TEMPERATURE, why_not
from backend.schemas.text import DEFAULT_MAX_NEW_TOKENS
from components.errors import EXPECTED_ERRORS, error_messages, refused, show_error
from components.parameter_controls import render_method_parameters
from components.save_form import render_save_form
from components.sequence_costs import render_costs, total_seconds
from components.sequence_view import render_sequence_analysis

KEY = "seq"
GROUPS = {"generation": "From the answer itself", "samples": "From K sampled answers", "ask": "Asking the model"}
AUTO_MEANING = "auto"
MAX_ANSWER_TOKENS = 256
PARAMETERS_PER_ROW = 4


def use_text_page_request() -> None:
    """Copy the Text page's last prompt, answer and model into this page's form."""
    text = TextRequest.model_validate_json(st.session_state[TEXT_REQUEST])
    st.session_state[f"{KEY}_prompt"] = text.prompt
    st.session_state[f"{KEY}_answer"] = text.answer or ""
    st.session_state[f"{KEY}_model"] = text.model


def why_unavailable(info: MethodInfo, model: Optional[ModelInfo]) -> str:
    """Why the model cannot run the method ("" when it can, or when the model is unknown)."""
    return why_not(info.requires, model.capabilities) if model is not None else ""


def estimated_on(info: MethodInfo, model: Optional[ModelInfo]) -> bool:
    """Whether the method's value is an estimate on the model (it lacks what the value needs to be exact)."""
    return model is not None and any(cap not in model.capabilities for cap in info.exact_requires)


def choose_methods(infos: list[MethodInfo], model: Optional[ModelInfo]) -> list[str]:
    """One row of toggles per group, the methods the model can run on at first (but those off by default, the
    costly ones); those it cannot run greyed out beside them with the reason (never sent); returns the chosen
    names in registry order."""
    unavailable = {i.name: why_unavailable(i, model) for i in infos if why_unavailable(i, model)}
    estimates = [i for i in infos if estimated_on(i, model) and i.name not in unavailable]
    labels = {i.name: i.label + (" (estimate)" if i in estimates else "") for i in infos}
    off_at_first = {i.name for i in infos if not i.on_by_default}
    suffix = "_limited" if unavailable or estimates else ""  # a fresh selection when the set of methods changes
    chosen: list[str] = []
    for group, title in GROUPS.items():
        names = [i.name for i in infos if i.group == group and i.name not in unavailable]
        greyed = [i.name for i in infos if i.group == group and i.name in unavailable]
        if names:
            chosen += st.pills(title, names, selection_mode="multi",
                               default=[n for n in names if n not in off_at_first], format_func=labels.get,
                               key=f"{KEY}_methods_{group}{suffix}") or []
        if greyed:
            st.pills(f"Not available on {model.id}" if names else f"{title}: not available on {model.id}", greyed,
                     selection_mode="multi", disabled=True, format_func=labels.get,
                     key=f"{KEY}_unavailable_{group}", help="; ".join(unavailable[n] for n in greyed))
            for name in greyed:
                st.caption(f"{labels[name]} {unavailable[name]}.")
    if estimates:
        st.caption(f"On {model.id}, {' and '.join(i.label for i in estimates)} are estimates: each token entropy is "
                   f"the midpoint of provably valid bounds from the served model's top-20 log-probabilities (the "
                   f"scores show the bounds).")
    with st.expander("What each method measures, its paper, range and cost"), st.container(key=f"{KEY}_method_table"):
        st.table([{"Method": i.label, "Higher is": f"more {i.higher_is}", "Range": i.value_range,
                   "What it measures": i.description, "Paper": i.paper, "Cost": i.cost,
                   "Needs of the model": ", ".join(i.requires).replace("_", " ")} for i in infos],
                 hide_index=True)
    return chosen


def chosen_model_id(text_models: list[str]) -> str:
    """The model the box shows (read before the box is drawn, so the methods above it can follow the model)."""
    current = st.session_state.get(f"{KEY}_model")
    return current if current in text_models else text_models[default_model_index(text_models, "text")]


def read_settings(infos: list[MethodInfo], chosen: list[str], text_models: list[str],
                  chosen_info: Optional[ModelInfo]) -> dict:
    """Model, sampling, meaning and method-parameter settings (request fields other than the prompt)."""
    meaning_models = [AUTO_MEANING] + [m.id for m in list_models() if m.kind in ("nli", "embedding")]
    served = is_served(chosen_info)
    with st.expander("Model, sampling and meaning settings", key=f"{KEY}_settings"):  # stays open on a model change
        left, middle, right, last = st.columns(4)
        model = left.selectbox("Model", text_models, key=f"{KEY}_model",
                               index=default_model_index(text_models, "text"),
                               help="served models (vLLM or another OpenAI-compatible server) run every method "
                                    "that needs only samples, log-probabilities or replies")
        max_new_tokens = middle.number_input("Max new tokens", 1, MAX_ANSWER_TOKENS, DEFAULT_MAX_NEW_TOKENS,
                                             key=f"{KEY}_max_new_tokens",
                                             help="for the analysed answer and for each sample")
        seed = right.number_input("Seed", 0, 2**31 - 1, 0, key=f"{KEY}_seed", help="makes the samples reproducible")
        chat_template = last.checkbox("Chat template", value=True, key=f"{KEY}_chat_template", disabled=served,
                                      help="a served model's engine always applies its chat template" if served
                                      else None) or served
        left, middle, right, last = st.columns(4)
        samples = left.slider("Samples K", MIN_SAMPLES, MAX_SAMPLES, DEFAULT_SAMPLES, key=f"{KEY}_samples",
                              help="answers drawn in one batched generate call")
        temperature = middle.number_input("Sample temperature", 0.05, 10.0, DEFAULT_SAMPLE_TEMPERATURE, 0.05,
                                          key=f"{KEY}_sample_temperature",
                                          help="for drawing the K samples and for their probabilities")
        meaning = right.selectbox("Meaning decided by", meaning_models, key=f"{KEY}_meaning",
                                  help="which model decides that two sampled answers mean the same; auto = the "
                                       "first registered NLI model, else the embedding model and the threshold")
        threshold = last.slider("Same meaning at affinity ≥", 0.0, 1.0, DEFAULT_SIMILARITY_THRESHOLD, 0.01,
                                key=f"{KEY}_threshold",
                                help="used when meaning comes from the embedding model: the affinity is 1 when one "
                                     "answer only adds words to the other, else the cosine of what the two answers "
                                     "say beyond the question")
        parameters = read_method_parameters([i for i in infos if i.name in chosen and i.parameters])
    return dict(model=model, max_new_tokens=int(max_new_tokens), seed=int(seed), chat_template=chat_template,
                samples=int(samples), sample_temperature=float(temperature),
                meaning_model=None if meaning == AUTO_MEANING else meaning, similarity_threshold=float(threshold),
                method_parameters=parameters)


def read_method_parameters(infos: list[MethodInfo]) -> dict[str, dict[str, float]]:
    """A control per parameter of the chosen methods (components.parameter_controls); returns only the values
    changed from their defaults, so that a request at the defaults names no parameter."""
    values = render_method_parameters(infos, key=f"{KEY}_param", per_row=PARAMETERS_PER_ROW)
    defaults = {(info.name, p.name): p.default for info in infos for p in info.parameters}
    changed = {name: {p: float(v) for p, v in given.items() if v != defaults[name, p]}
               for name, given in values.items()}
    return {name: given for name, given in changed.items() if given}


def build_request(settings: dict, chosen: list[str], prompt: str, answer: str) -> SequenceRequest:
    """The request for the current settings (raises ValidationError with what to change)."""
    text = TextRequest(model=settings["model"], prompt=prompt, answer=answer if answer.strip() else None,
                       chat_template=settings["chat_template"], max_new_tokens=settings["max_new_tokens"],
                       seed=settings["seed"])
    fields = {k: v for k, v in settings.items() if k not in {"model", "max_new_tokens", "seed", "chat_template"}}
    return SequenceRequest(text=text, methods=chosen, **fields)


def show_costs(settings: dict, chosen: list[str], labels: dict[str, str]) -> Optional[float]:
    """The cost table of the current selection (models are timed once); returns the estimated seconds."""
    prompt = st.session_state.get(f"{KEY}_prompt", "").strip() or "?"
    try:
        request = build_request(settings, chosen, prompt, st.session_state.get(f"{KEY}_answer", ""))
        with st.spinner("Timing one pass of each model on this machine (first time only)…"):
            costs = estimate_cost(request.model_dump_json())
    except EXPECTED_ERRORS as exc:
        show_error(exc, kept="The cost is estimated again on the next change.")
        return None
    render_costs(costs, labels, key=KEY)
    return total_seconds(costs)


def ask_form(settings: dict, chosen: list[str]) -> None:
    """Prompt and optional answer; a valid submission becomes the page's current request."""
    if text_page_request():
        st.button("Use the Text page's last prompt", key=f"{KEY}_from_text", on_click=use_text_page_request)
    with st.form(f"{KEY}_form"):
        prompt = st.text_area("Prompt", key=f"{KEY}_prompt", height=90,
                              placeholder="Ask a question; the methods measure how sure the model is of its answer")
        answer = st.text_area("Answer to score (optional)", key=f"{KEY}_answer", height=68,
                              help="Score this answer instead of the model's greedy one; samples are still drawn.")
        submitted = st.form_submit_button("Run the selected methods", type="primary")
    if not submitted:
        return
    if not chosen:
        st.error("No method is selected: pick at least one method above.")
        return
    try:
        st.session_state[f"{KEY}_request"] = build_request(settings, chosen, prompt, answer).model_dump_json()
    except ValidationError as exc:
        show_error(exc)


def edit_claims(result: SequenceAnalysis, current: str) -> None:
    """The claims one per line, editable; "Re-score claims" runs the request again with the edited split (the same
    answer: the same greedy generation, or the same given answer). A refused split leaves this analysis on the
    page, with the reason above the form."""
    refusal = st.session_state.pop(f"{KEY}_claims_refused", None)
    if refusal:
        st.error(f"{refusal.rstrip('.')}. The claims scored are still shown: edit them and press Re-score claims "
                 f"again.")
    with st.form(f"{KEY}_claims_form"):
        edited = st.text_area("The answer's claims, one per line (each a piece of the answer, in order)",
                              "\n".join(c.text for c in result.claims), key=f"{KEY}_claims_text",
                              height=min(300, 40 + 26 * len(result.claims)))
        submitted = st.form_submit_button("Re-score claims")
    if submitted:
        request = SequenceRequest.model_validate_json(current)
        lines = [line.strip() for line in edited.splitlines() if line.strip()]
        st.session_state[f"{KEY}_before_claims"] = current
        st.session_state[f"{KEY}_request"] = request.model_copy(update={"claims": lines or None}).model_dump_json()
        st.rerun()


def render_result(result: SequenceAnalysis) -> None:
    """The analysed answer, its scores and evidence (components.sequence_view), and a JSON download."""
    st.subheader("The analysed answer")
    render_sequence_analysis(result, key=KEY)
    st.download_button("Download this analysis (JSON)", result.model_dump_json(indent=2),
                       file_name="uqlens-sequence-analysis.json", mime="application/json", key=f"{KEY}_download")


st.title("Sequence uncertainty")
st.caption("Scores from the literature that condense how sure the model is of a whole answer, each computed on "
           "the same answer as the Text page's token heatmap and shown with the evidence it came from.")
infos = sequence_methods()
text_models = model_ids("text")
chosen_model = model_info(chosen_model_id(text_models))
st.subheader("1. Methods")
st.caption("Click a method to turn it off or on; those from K samples share one batched sampling call.")
chosen = choose_methods(infos, chosen_model)
settings = read_settings(infos, chosen, text_models, chosen_model)
st.subheader("2. What they will cost")
estimate = show_costs(settings, chosen, {i.name: i.label for i in infos}) if chosen else None
if not chosen:
    st.info("Select at least one method to see its cost.")
st.subheader("3. Ask")
ask_form(settings, chosen)
current = st.session_state.get(f"{KEY}_request")
if current:
    request = SequenceRequest.model_validate_json(current)
    about = f" (about {estimate:.0f} s)" if estimate else ""
    try:
        with st.spinner(f"Running {len(request.methods)} methods{about}…"):
            analysis = analyze_sequence(current)
    except EXPECTED_ERRORS as exc:
        before_claims = st.session_state.pop(f"{KEY}_before_claims", None)
        if before_claims and refused(exc):  # an edited split refused: back to the analysis it edited
            st.session_state[f"{KEY}_request"], st.session_state[f"{KEY}_claims_refused"] = (
                before_claims, " ".join(error_messages(exc)))
            st.rerun()
        show_error(exc, kept="Your prompt and settings are kept.", retry_key=f"{KEY}_retry")
        if refused(exc):
            st.session_state.pop(f"{KEY}_request")
    else:
        st.session_state.pop(f"{KEY}_before_claims", None)
        render_result(analysis)
        if analysis.claims:
            edit_claims(analysis, current)
        render_save_form(key=KEY, kind="sequence", model=analysis.text.model,
                         default_title=analysis.text.prompt.strip(), payload=lambda: analysis.model_dump(mode="json"),
                         request=json.loads(current), content_key=current, save=get_client().save)
