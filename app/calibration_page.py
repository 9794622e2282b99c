"""Calibration & audits page: run a resumable audit over a dataset and see whether the model's confidence can be
trusted (reliability, error detection, recalibration, method agreement), then export or save it."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Optional

import streamlit as st
from pydantic import ValidationError

from app.services import get_client, list_models
from backend.audit.methods import CLASSIFIER_METHODS, text_method_names
from backend.audit.report import render_report
from backend.audit.runner import plan_audit, run_audit
from backend.audit.store import AuditStore
from backend.client import LocalClient
from backend.errors import ModelLoadError, UserInputError
from backend.models.registry import UnknownModelError
from backend.schemas import DEFAULT_TEXT_MODEL
from backend.schemas.audit import BUILTIN_DIGITS, BUILTIN_QA, AuditRequest, AuditResult
from components.audit_views import (items_frame, render_agreement, render_error_detection, render_items,
                                    render_metrics, render_recalibration, render_reliability)
from components.save_form import render_save_form

KEY = "calib"
UPLOADS = Path(__file__).resolve().parent.parent / "data" / "uploads"
SOURCES = {"Bundled QA set (224 short factual questions)": BUILTIN_QA,
           "Digits classifier (held-out scikit-learn digits)": BUILTIN_DIGITS,
           "Upload a file (JSONL/CSV of questions and answers, or CSV of scores and labels)": "upload"}


@st.cache_resource(show_spinner=False)
def audit_store() -> AuditStore:
    """The audit store in the project's database (UQLENS_DATABASE_URL or data/uqlens.sqlite)."""
    return AuditStore()


def keep_upload(name: str, content: bytes) -> str:
    """Write an uploaded file under data/uploads/, named by its hash (so a resumed audit finds the same file)."""
    suffix = Path(name).suffix.lower()
    if suffix not in (".jsonl", ".csv"):
        raise UserInputError(f"{name}: upload a .jsonl or .csv file")
    UPLOADS.mkdir(parents=True, exist_ok=True)
    path = UPLOADS / f"{hashlib.sha256(content).hexdigest()[:16]}{suffix}"
    path.write_bytes(content)
    return str(path)


def method_choices(source: str) -> tuple[list[str], list[str]]:
    """(options, defaults) of the methods box for a data source."""
    if source == BUILTIN_DIGITS:
        names = [m.name for m in CLASSIFIER_METHODS]
        return names, names
    if source == BUILTIN_QA:
        return text_method_names(), ["mean_logprob", "geo_mean_prob", "max_entropy"]
    return [], []


def read_form() -> Optional[dict]:
    """The audit settings; returns the request fields when submitted."""
    label = st.radio("Data", list(SOURCES), key=f"{KEY}_source")
    source = SOURCES[label]
    options, defaults = method_choices(source)
    with st.form(f"{KEY}_form"):
        upload = None
        if source == "upload":
            upload = st.file_uploader("File", type=["jsonl", "csv"], key=f"{KEY}_upload")
            methods_text = st.text_input("Methods (comma-separated: score columns of a scores CSV, or text methods)",
                                         "mean_logprob", key=f"{KEY}_methods_text")
        else:
            methods = st.multiselect("Confidence methods", options, default=defaults, key=f"{KEY}_methods_{source}")
        left, middle, right = st.columns(3)
        text_models = [m.id for m in list_models() if m.kind == "text"] or [DEFAULT_TEXT_MODEL]
        model = left.selectbox("Text model", text_models, key=f"{KEY}_model", disabled=source == BUILTIN_DIGITS)
        limit = middle.number_input("Items (first N)", 1, 5000, 20, key=f"{KEY}_limit")
        batch_size = right.number_input("Batch size", 1, 64, 8, key=f"{KEY}_batch")
        left, middle, right = st.columns(3)
        max_new_tokens = left.number_input("Max new tokens", 1, 128, 24, key=f"{KEY}_max_new_tokens")
        samples = middle.number_input("Samples K (sampling methods)", 2, 20, 5, key=f"{KEY}_samples")
        seed = right.number_input("Seed", 0, 2**31 - 1, 0, key=f"{KEY}_seed")
        submitted = st.form_submit_button("Run audit", type="primary")
    if not submitted:
        return None
    if source == "upload":
        if upload is None:
            st.error("Choose a file to upload first.")
            return None
        dataset = keep_upload(upload.name, upload.getvalue())
        methods = [m.strip() for m in methods_text.split(",") if m.strip()]
    else:
        dataset = source
    if not methods:
        st.error("Pick at least one confidence method.")
        return None
    return dict(dataset=dataset, methods=methods, model=model, limit=int(limit), batch_size=int(batch_size),
                max_new_tokens=int(max_new_tokens), samples=int(samples), seed=int(seed))


def validated(fields: dict) -> Optional[str]:
    """The request as JSON after checking it and its dataset, or None after saying what to change."""
    try:
        request = AuditRequest(**fields)
        plan_audit(request)
        return request.model_dump_json()
    except ValidationError as exc:
        for error in exc.errors():
            st.error(f"{'.'.join(map(str, error['loc']))}: {str(error['msg']).removeprefix('Value error, ')}")
    except UserInputError as exc:
        st.error(str(exc))
    return None


def run(request_json: str) -> Optional[AuditResult]:
    """Run (or resume) the audit with a progress bar and a Stop button; finished items are always kept."""
    client = get_client()
    if not isinstance(client, LocalClient):
        st.error("Audits run in-process: unset UQLENS_BACKEND_URL to run one from this app, or use "
                 "`python -m backend audit` on the backend machine.")
        return None
    holder = st.empty()
    with holder.container():
        st.button("Stop (finished items are kept; Run audit again resumes)", key=f"{KEY}_stop",
                  on_click=lambda: st.session_state.update({f"{KEY}_running": False}))
        bar = st.progress(0.0, text="Starting (loading models on first use)…")

    def progress(done: int, total: int, seconds_left: Optional[float]) -> None:
        left = f", about {seconds_left:.0f} s left" if seconds_left is not None else ""
        bar.progress(done / total, text=f"{done} of {total} items done{left}")

    try:
        result = run_audit(AuditRequest.model_validate_json(request_json), client.engine, audit_store(),
                           progress=progress)
        holder.empty()
        return result
    except (UserInputError, UnknownModelError) as exc:
        st.error(str(exc))
    except ModelLoadError as exc:
        st.error(f"The model could not be loaded. {exc}")
    return None


def render_export(result: AuditResult) -> None:
    """Downloads (HTML report, CSV, JSON; each made only when clicked) and the save form."""
    left, middle, right = st.columns(3)
    left.download_button("HTML report", lambda: render_report(result), file_name=f"audit-{result.audit_id}.html",
                         mime="text/html", key=f"{KEY}_html", on_click="ignore",
                         help="figures, numbers, model and data ids, settings, seed and date in one offline file")
    middle.download_button("Items as CSV", lambda: items_frame(result, range(len(result.items))).to_csv(index=False),
                           file_name=f"audit-{result.audit_id}.csv", mime="text/csv", key=f"{KEY}_csv",
                           on_click="ignore")
    right.download_button("Everything as JSON", lambda: result.model_dump_json(indent=1),
                          file_name=f"audit-{result.audit_id}.json", mime="application/json", key=f"{KEY}_json",
                          on_click="ignore")
    render_save_form(key=KEY, kind="audit", model=result.model_id,
                     default_title=f"Audit of {result.model_id} on {result.dataset_id} ({result.n} items)",
                     payload=result.model_dump(mode="json"), request=result.request.model_dump(mode="json"),
                     content_key=f"audit-{result.audit_id}-{result.n}", save=get_client().save)


def render_result(result: AuditResult) -> None:
    """Headline numbers and the tabs."""
    done = "" if result.extra.get("complete") else f" (stopped: {result.n} of {result.extra.get('total')} done; " \
                                                   f"press Run audit again to resume)"
    st.subheader(f"{result.n} items, accuracy {result.accuracy:.1%}{done}")
    st.caption(f"Audit {result.audit_id} · model {result.model_id} · data {result.dataset_id} · seed "
               f"{result.request.seed} · started {result.created_at} UTC")
    render_metrics(result, key=KEY)
    tabs = st.tabs(["Reliability", "Error detection", "Recalibration", "Agreement", "Items", "Export"])
    with tabs[0]:
        render_reliability(result, key=KEY)
    with tabs[1]:
        render_error_detection(result, key=KEY)
    with tabs[2]:
        render_recalibration(result, key=KEY)
    with tabs[3]:
        render_agreement(result, key=KEY)
    with tabs[4]:
        render_items(result, key=KEY, set_override=lambda index, verdict: audit_store().set_override(
            result.audit_id, index, verdict))
    with tabs[5]:
        render_export(result)


st.title("Calibration & audits")
st.caption("One example shows a feeling; an audit over a dataset shows whether the model's confidence can be "
           "trusted. Finished items are kept, so a stopped or crashed audit resumes where it left off.")
fields = read_form()
if fields is not None:
    request_json = validated(fields)
    if request_json is not None:
        st.session_state[f"{KEY}_request"] = request_json
        st.session_state[f"{KEY}_running"] = True
current = st.session_state.get(f"{KEY}_request")
if current:
    if st.session_state.get(f"{KEY}_running"):
        audit = run(current)
        st.session_state[f"{KEY}_running"] = False
    else:
        audit = run_audit(AuditRequest.model_validate_json(current), None, audit_store(),
                          should_stop=lambda: True)
    if audit is not None and audit.n:
        render_result(audit)
    elif audit is not None:
        st.info("No item is finished yet: press Run audit to start.")
