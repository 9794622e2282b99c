"""Imported logs page: responses already produced elsewhere, with their log-probabilities (an OpenAI chat
completion, a vLLM / OpenAI completion, or a JSONL of them), shown and scored like a generated answer with no
model loaded: the token heatmap, the sequence scores the logged numbers allow, several answers to one prompt as
samples, and a verdict and an audit where lines give a reference."""
from __future__ import annotations

import json
from typing import Optional

import streamlit as st
from pydantic import ValidationError

from app.imports_services import import_logs
from app.sequence_services import sequence_methods
from app.services import get_client
from backend.schemas.imports import (DEFAULT_IMPORT_METHODS, DEFAULT_VOCAB_SIZE, MAX_IMPORT_BYTES, ImportedGroup,
                                     ImportRequest, ImportResult)
from backend.schemas import MethodInfo
from components.errors import EXPECTED_ERRORS, show_error
from components.save_form import render_save_form
from components.sequence_scores import render_sequence_scores
from components.text_analysis_view import render_text_analysis
from components.text_safety import markdown_literal

KEY = "imports"
NEEDS_THE_MODEL = ("full_distribution",)  # a log has the top-k only
EXAMPLE = {"prompt": "What is the capital of France?", "reference": "Paris",
           "object": "chat.completion", "model": "my-model", "choices": [{
               "message": {"role": "assistant", "content": "Paris"}, "finish_reason": "stop",
               "logprobs": {"content": [{"token": "Paris", "logprob": -0.1, "top_logprobs": [
                   {"token": "Paris", "logprob": -0.1}, {"token": "Lyon", "logprob": -2.6}]}]}}]}


def importable(infos: list[MethodInfo]) -> list[MethodInfo]:
    """The methods a log can feed: not those asking the model, nor those needing its full distribution."""
    return [i for i in infos if i.group != "ask" and not set(i.requires) & set(NEEDS_THE_MODEL)]


def read_settings(infos: list[MethodInfo]) -> dict:
    """Methods, vocabulary size and alternatives per token."""
    offered = importable(infos)
    labels = {i.name: i.label for i in offered}
    with st.expander("Methods and settings", key=f"{KEY}_settings"):
        methods = st.multiselect("Sequence methods", list(labels), default=[n for n in DEFAULT_IMPORT_METHODS
                                                                            if n in labels],
                                 format_func=labels.get, key=f"{KEY}_methods",
                                 help="the default ones need only the logged numbers; TokenSAR, meaning and Semantic "
                                      "Volume also load UQ Lens's embedding model")
        left, right = st.columns(2)
        vocab = left.number_input("Vocabulary size V (0 = not known)", 0, 10_000_000, 0, key=f"{KEY}_vocab",
                                  help=f"the model's number of tokens; bounds on each entropy need it. Not known: "
                                       f"{DEFAULT_VOCAB_SIZE:,} is assumed (valid for any smaller vocabulary, looser)")
        top_k = right.number_input("Alternatives per token", 1, 20, 5, key=f"{KEY}_top_k")
    return dict(methods=methods, vocab_size=int(vocab) or None, top_k=int(top_k))


def group_label(index: int, group: ImportedGroup) -> str:
    """A line for the group picker: where it is, how many answers, its prompt's start."""
    prompt = (group.prompt or "no prompt in the log").replace("\n", " ")
    return (f"{group.sources[0].split(',')[0]} · {len(group.sources)} answer{'s' * (len(group.sources) > 1)} · "
            f"{prompt[:60]}{'…' if len(prompt) > 60 else ''}")


def render_verdict(group: ImportedGroup) -> None:
    if group.correct is None:
        return
    say = st.success if group.correct else st.error
    say(f"Graded against the reference {markdown_literal(group.reference or '')!s}: "
        f"{'right' if group.correct else 'wrong'} ({group.grading_reason}).")


def render_group(group: ImportedGroup) -> None:
    """One prompt's analysed answer (heatmap, curve, token detail), its scores and its samples."""
    analysis = group.analysis
    st.markdown(f"**Prompt:** {markdown_literal(group.prompt) if group.prompt else '*not in the log*'}")
    st.caption(f"Analysed answer: {group.sources[0]} ({group.format} format)"
               + (f"; samples: {', '.join(group.sources[1:])}" if len(group.sources) > 1 else ""))
    render_verdict(group)
    render_text_analysis(analysis.text, key=f"{KEY}_text")
    st.subheader("Sequence scores")
    if analysis.left_out:
        st.info("Left out: " + "; ".join(f"{name.replace('_', ' ')} {why}" for name, why in analysis.left_out.items())
                + ".")
    scores_tab, samples_tab = st.tabs(["Scores", "Samples"])
    with scores_tab:
        if analysis.scores:
            render_sequence_scores(analysis.scores, key=f"{KEY}_scores")
        else:
            st.info("No selected method can run on this group.")
    with samples_tab:
        render_answers(group)
    st.caption(analysis.evidence_note[0].upper() + analysis.evidence_note[1:] + ".")


def render_answers(group: ImportedGroup) -> None:
    """The group's answers as logged, with their log-probabilities (the samples of the sample methods)."""
    samples = group.analysis.samples
    if len(samples) < 2:
        st.info("One answer to this prompt: lines with the same prompt (or a response with n > 1 choices) are the "
                "samples of the sample-based methods.")
        return
    st.caption(f"{len(samples)} logged answers to this prompt; log p = the sum of their logged token "
               f"log-probabilities.")
    st.markdown("\n".join(f"- {source} · log p = {s.logprob:.2f} · {markdown_literal(s.text) or '*(empty)*'}"
                          for source, s in zip(group.sources, samples)))


def render_audit(result: ImportResult) -> None:
    audit = result.audit
    if audit is None:
        return
    st.subheader("Audit of the graded answers")
    st.caption(f"{audit.correct} of {audit.graded} answers right ({audit.accuracy:.0%}); AUROC of each score "
               f"detecting a wrong answer (0.5 = chance, 1 = every wrong answer less sure than every right one).")
    st.table([{"Method": m.label, "Higher is": f"more {m.higher_is}", "Error-detection AUROC":
               "n/a (needs right and wrong answers)" if m.auroc is None else f"{m.auroc:.3f}",
               "Graded answers scored": m.scored} for m in audit.methods], hide_index=True)


def pick_group(result: ImportResult) -> ImportedGroup:
    if len(result.groups) == 1:
        return result.groups[0]
    index = st.selectbox("Prompt", range(len(result.groups)), key=f"{KEY}_group",
                         format_func=lambda i: group_label(i, result.groups[i]))
    return result.groups[index if index is not None and index < len(result.groups) else 0]


def request_of(upload, settings: dict) -> Optional[str]:
    """The import request's JSON for the uploaded file, or None (with the reason shown)."""
    data = upload.getvalue()
    if len(data) > MAX_IMPORT_BYTES:
        st.error(f"{upload.name} is larger than {MAX_IMPORT_BYTES:,} bytes; split it into smaller JSONL files.")
        return None
    try:
        content = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        st.error(f"line {line}: byte 0x{data[exc.start]:02x} is not UTF-8; save the "
                 f"log as UTF-8 and upload it again.")
        return None
    if not settings["methods"]:
        st.error("No method is selected: pick at least one under Methods and settings.")
        return None
    try:
        return ImportRequest(content=content, name=upload.name, **settings).model_dump_json()
    except ValidationError as exc:
        show_error(exc)
        return None


st.title("Imported logs")
st.caption("Answers produced elsewhere, read with the log-probabilities their server returned: no model is run. "
           "Upload an OpenAI chat completion (logprobs.content[].top_logprobs), a vLLM / OpenAI completion "
           "(logprobs.tokens, token_logprobs, top_logprobs), or a JSONL of them, one a line; a line may add "
           "\"prompt\" (lines with the same prompt are samples of one another) and \"reference\" (graded).")
with st.expander("Example line"):
    st.code(json.dumps(EXAMPLE), language="json", wrap_lines=True)
settings = read_settings(sequence_methods())
upload = st.file_uploader("Log file", type=["json", "jsonl", "txt"], key=f"{KEY}_file",
                          help="read as JSON only; nothing in it is run")
if upload is None:
    st.info("Upload a log to see its token heatmap and scores.")
else:
    current = request_of(upload, settings)
    if current:
        try:
            with st.spinner(f"Reading {upload.name}…"):
                result = import_logs(current)
        except EXPECTED_ERRORS as exc:
            show_error(exc, kept="Fix the file and upload it again; the settings are kept.")
        else:
            st.success(f"{result.name}: {result.responses} response{'s' * (result.responses > 1)}, "
                       f"{len(result.groups)} prompt{'s' * (len(result.groups) > 1)}.")
            group = pick_group(result)
            render_group(group)
            render_audit(result)
            st.download_button("Download this import (JSON)", result.model_dump_json(indent=2),
                               file_name="uqlens-import.json", mime="application/json", key=f"{KEY}_download")
            render_save_form(key=KEY, kind="sequence", model=group.analysis.text.model,
                             default_title=(group.prompt or result.name).strip(),
                             payload=lambda: group.analysis.model_dump(mode="json"), request=None,
                             content_key=current + group.sources[0], save=get_client().save)
