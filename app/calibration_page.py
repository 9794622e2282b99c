"""Calibration & audits page: run a resumable audit over a dataset and see whether the model's confidence can be
trusted (reliability, error detection, recalibration, method agreement), then export or save it. Works in-process
and against a separate backend (UQLENS_BACKEND_URL) alike: every step goes through the client."""
from __future__ import annotations

import uuid
from typing import Optional

import streamlit as st

from app.audit_services import (audit_methods, run_batches, unavailable_methods, unavailable_note, upload_dataset,
                                when_free)
from app.audit_compare_tab import render_compare_tab
from app.cascade_services import cascade_applies, render_cascade_tab
from app.relative_services import relative_cost_note
from app.services import default_model_index, get_client, is_served, model_ids, model_info
from backend.schemas import ModelInfo
from backend.schemas.audit import (BUILTIN_DIGITS, BUILTIN_QA, MAX_AUDIT_ITEMS, AuditMethodCatalog, AuditOverride,
                                   AuditProgress, AuditRequest, AuditResult)
from components.audit_views import items_frame, render_audit_tabs, render_items
from components.errors import EXPECTED_ERRORS, TRANSIENT_ERRORS, show_error
from components.save_form import render_save_form

KEY = "calib"
IMAGES, UPLOAD = "images", "upload"
FAILED: dict = {}  # read_form's answer when the submitted data was refused (the message is already shown)
SOURCES = {"Bundled QA set (224 short factual questions)": BUILTIN_QA,
           "Digits classifier (held-out scikit-learn digits)": BUILTIN_DIGITS,
           "Labelled images (a .zip of class folders) with an image model": IMAGES,
           "Upload a file (JSONL/CSV of questions and answers, or CSV of scores and labels)": UPLOAD}
# Items audited unless changed, per data source: enough for a meaningful audit (at least 100 items, the size under
# which the metrics warn) at a cost that suits the source. The 540 held-out digits cost milliseconds, so all of them
# (at 20, the classifier was right on every item and the ranking metrics had no wrong answer to find); 100 of the 224
# bundled questions (a mix of easy, medium and hard; README bench: 200 at 8 new tokens in 61 s on a CPU); every item
# of an uploaded file.
DEFAULT_ITEMS = {BUILTIN_QA: 100, BUILTIN_DIGITS: 540, IMAGES: MAX_AUDIT_ITEMS, UPLOAD: MAX_AUDIT_ITEMS}
ITEMS_HELP = ("Audit the first N items. Defaults: 100 of the 224 bundled questions, all 540 held-out digits, every "
              "item of an upload. Below 100 items the metrics' intervals are wide (the page says so). Raising N "
              "later reuses the items already finished.")
UPLOAD_HELP = ('JSONL, one object a line: {"question": ..., "answers": [...]}; or a response to grade as given, '
               'claim by claim: {"question": ..., "response": ..., "claims": [{"text": a piece of the response, '
               '"correct": true}, ...]} (the Claims tab then scores every claim). CSV: question and answer columns, '
               'or a correct column and one column of scores per method.')
CONCURRENCY_HELP = ("How many questions the engine gets at once (it batches them: more in flight, more answers per "
                    "second, up to what the engine holds). It does not change the results, and the audit keeps its "
                    "id at any value, so a stopped audit resumes with another.")
ZIP_LAYOUT = """**How to lay out the zip**: one folder per class, named after the label, the images inside.

```
my-photos.zip
├── tabby/        ← a class name of the model
│   ├── 001.jpg
│   └── 002.png
├── 967/          ← or its index (espresso)
│   └── cup.webp
└── n03773504/    ← or its WordNet id
    └── launch.jpg
```
Case, `_` and `-` do not matter (`Tiger_Cat` = "tiger cat"); synonyms count ("tabby cat"); one top folder
around the class folders is fine. PNG, JPEG or WebP only (read from the content); hidden files and `__MACOSX/`
are skipped. At most 20 MB compressed, 5,000 images, 512 MiB unpacked. An unknown or ambiguous label is named,
with what to rename it to."""


def method_choices(source: str, catalog: AuditMethodCatalog) -> tuple[list[str], list[str]]:
    """(options, defaults) of the methods box for a data source: the digits classifier's one-pass methods, an
    image model's one-pass and K-pass methods, the text methods of question audits, none for an upload (typed)."""
    if source == BUILTIN_DIGITS:
        return catalog.names("classifier"), catalog.defaults("classifier")
    if source == IMAGES:
        return catalog.names("classifier", "image"), catalog.defaults("classifier")
    if source == BUILTIN_QA:
        return catalog.names("text"), catalog.defaults("text")
    return [], []


def method_label(name: str, catalog: AuditMethodCatalog) -> str:
    """How the methods box shows a method: a classifier method with its label ("max_prob (Max probability)"), a
    text method by its name, which the audit's report and CSV use too."""
    labels = {m.name: m.label for m in catalog.methods if m.kind != "text"}
    return f"{name} ({labels[name]})" if name in labels else name


def method_catalog() -> Optional[AuditMethodCatalog]:
    """The audit method catalog, or None after saying that the backend could not answer (the form is drawn
    without methods, and a submission waits for the backend)."""
    try:
        return audit_methods()
    except TRANSIENT_ERRORS as exc:
        say(exc)
        return None


def served_note(model: str, engine: str) -> str:
    """What a served model's audit is, in words, under the model box."""
    return (f"{model} is served by {engine}: one request per question, as many at once as Requests in flight "
            f"says. Log-probabilities are the server's; entropies are estimates from its top-20, kept with their "
            f"bounds. Items are kept as they finish (Batch size at a time), so an engine that goes away loses only "
            f"the requests in flight.")


def choose_model(source: str) -> tuple[str, Optional[ModelInfo]]:
    """The model box (outside the form, so the methods and controls follow the model chosen): (model id, its entry
    for a question audit, else None). Questions may go to a served text model; images and the digits classifier
    need a model in the process."""
    kind = "image" if source == IMAGES else "text"
    models = model_ids(kind)
    left, right = st.columns([1, 2])
    model = left.selectbox(f"{kind.capitalize()} model", models, index=default_model_index(models, kind),
                           key=f"{KEY}_model_{source}", disabled=source == BUILTIN_DIGITS)
    info = model_info(model) if kind == "text" and source != BUILTIN_DIGITS else None
    if is_served(info):
        right.caption(served_note(model, info.engine))
    return model, info


def read_form() -> Optional[dict]:
    """The audit settings: the request fields when submitted (an upload is kept by the backend first), FAILED when
    the submission was refused (after saying why), None when nothing was submitted."""
    source = SOURCES[st.radio("Data", list(SOURCES), key=f"{KEY}_source")]
    catalog = method_catalog()
    model, info = choose_model(source)
    served = is_served(info)
    options, defaults = method_choices(source, catalog) if catalog else ([], [])
    refused = unavailable_methods(options, catalog, info) if catalog and options else {}
    options = [name for name in options if name not in refused]
    with st.form(f"{KEY}_form"):
        upload = None
        if source == IMAGES:
            left, right = st.columns([2, 3])
            upload = left.file_uploader("Labelled images (.zip)", type=["zip"], key=f"{KEY}_zip")
            right.markdown(ZIP_LAYOUT)
        if source == UPLOAD:
            upload = st.file_uploader("File", type=["jsonl", "csv"], key=f"{KEY}_upload", help=UPLOAD_HELP)
            methods_text = st.text_input("Methods (comma-separated: score columns of a scores CSV, or text methods)",
                                         "mean_logprob", key=f"{KEY}_methods_text")
        else:
            methods = st.multiselect("Confidence methods", options,
                                     default=[name for name in defaults if name in options],
                                     key=f"{KEY}_methods_{source}" + ("_limited" if refused else ""),
                                     format_func=lambda n: method_label(n, catalog))
            if refused:
                st.caption(unavailable_note(model, refused))
        left, middle, right = st.columns(3)
        limit = left.number_input("Items (first N)", 1, MAX_AUDIT_ITEMS, DEFAULT_ITEMS[source],
                                  key=f"{KEY}_limit_{source}", help=ITEMS_HELP)
        batch_size = middle.number_input("Batch size", 1, 64, 8, key=f"{KEY}_batch",
                                         help="Served models: how many finished items are kept together" if served
                                         else "Questions answered per generate call (images: per forward pass)")
        concurrency = right.number_input("Requests in flight", 1, 64, 8, key=f"{KEY}_concurrency",
                                         help=CONCURRENCY_HELP) if served else 8
        left, middle, right = st.columns(3)
        max_new_tokens = left.number_input("Max new tokens", 1, 128, 24, key=f"{KEY}_max_new_tokens",
                                           disabled=source in (IMAGES, BUILTIN_DIGITS))
        samples = middle.number_input("Passes K (MC dropout / TTA)" if source == IMAGES else
                                      "Samples K (sampling methods)", 2, 20, 5, key=f"{KEY}_samples",
                                      disabled=source == BUILTIN_DIGITS)  # its methods all read one pass
        seed = right.number_input("Seed", 0, 2**31 - 1, 0, key=f"{KEY}_seed")
        submitted = st.form_submit_button("Run audit", type="primary")
    if not submitted:
        return None
    if catalog is None:
        return FAILED
    if source in (IMAGES, UPLOAD):
        if upload is None:
            st.error("Choose a file to upload first.")
            return FAILED
        dataset = upload_dataset(upload.name, upload.getvalue())
        if source == UPLOAD:
            methods = [m.strip() for m in methods_text.split(",") if m.strip()]
    else:
        dataset = source
    if not methods:
        st.error("Pick at least one confidence method.")
        return FAILED
    return dict(dataset=dataset, methods=methods, model=model, limit=int(limit), batch_size=int(batch_size),
                concurrency=int(concurrency), max_new_tokens=int(max_new_tokens), samples=int(samples), seed=int(seed))


def say(exc: Exception) -> None:
    """Tell the person what went wrong (components.errors), and for a backend that is down or busy, that nothing
    was lost."""
    show_error(exc, kept="Finished items are kept: press Run audit again to go on.")


def checked_request(fields: dict) -> Optional[str]:
    """The request as JSON after the backend checked it, its data, model and labels; None after saying what to
    change."""
    try:
        request = AuditRequest(**fields)
        with st.spinner("Checking the data and the methods, loading the model…"):
            when_free(lambda: get_client().start_audit(request))
        return request.model_dump_json()
    except EXPECTED_ERRORS as exc:
        say(exc)
    return None


def run(request_json: str) -> None:
    """Run (or resume) the audit batch by batch with a progress bar and a Stop button; finished items are kept."""
    holder = st.empty()
    with holder.container():
        st.button("Stop (finished items are kept; Run audit again resumes)", key=f"{KEY}_stop",
                  on_click=lambda: st.session_state.update({f"{KEY}_running": False}))
        bar = st.progress(0.0, text="Starting (loading models on first use)…")

    def progress(state: AuditProgress, seconds_left: Optional[float]) -> None:
        left = f", about {seconds_left:.0f} s left" if seconds_left is not None else ""
        bar.progress(state.done / max(state.total, 1), text=f"{state.done} of {state.total} items done{left}")

    try:
        request = AuditRequest.model_validate_json(request_json)
        note = relative_cost_note(request)  # said before the comparisons are asked
        if note:
            st.caption(note)
        run_batches(request, progress)
        holder.empty()
    except EXPECTED_ERRORS as exc:
        say(exc)


def render_export(result: AuditResult) -> None:
    """Downloads (HTML report, CSV, JSON; each made only when clicked) and the save form."""
    left, middle, right = st.columns(3)
    left.download_button("HTML report", lambda: when_free(lambda: get_client().audit_report(result.request)),
                         file_name=f"audit-{result.audit_id}.html", mime="text/html", key=f"{KEY}_html",
                         on_click="ignore", help="figures, numbers, model and data ids, settings, seed and date in one offline file")
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


def override(audit_id: str, index: int, verdict: Optional[bool]) -> None:
    """Keep a person's verdict on one item (through the client, so it works over HTTP too)."""
    get_client().set_audit_override(AuditOverride(audit_id=audit_id, index=index, verdict=verdict))
    changed()


def render_result(result: AuditResult) -> None:
    """Headline numbers and the tabs."""
    done = "" if result.extra.get("complete") else f" (stopped: {result.n} of {result.extra.get('total')} done; " \
                                                   f"press Run audit again to resume)"
    st.subheader(f"{result.n} items, accuracy {result.accuracy:.1%}{done}")
    st.caption(f"Audit {result.audit_id} · model {result.model_id} · data {result.dataset_id} · seed "
               f"{result.request.seed} · started {result.created_at} UTC")
    cascade = (lambda: render_cascade_tab(result, st.session_state.get(f"{KEY}_revision", ""))) \
        if cascade_applies(result) else None
    render_audit_tabs(result, key=KEY, export=lambda: render_export(result), items=lambda: render_items(
        result, key=KEY, set_override=lambda index, verdict: override(result.audit_id, index, verdict)),
        cascade=cascade, compare=lambda: render_compare_tab(result, st.session_state.get(f"{KEY}_revision", "")))


def shown_request() -> Optional[str]:
    """The audit whose results the page shows: the last one submitted, only while its data source is the one
    selected (a failed submission clears it, so an error never sits above another dataset's results)."""
    if st.session_state.get(f"{KEY}_request_source") != st.session_state.get(f"{KEY}_source"):
        return None
    return st.session_state.get(f"{KEY}_request")


def changed() -> None:
    """Note that the audit's items changed (a batch ran, a verdict was overridden), so its result is read anew."""
    st.session_state[f"{KEY}_revision"] = uuid.uuid4().hex  # unique across sessions (the cache is shared)


@st.cache_data(max_entries=4, show_spinner="Computing the metrics and their bootstrap intervals…")
def read_result(request_json: str, revision: str) -> AuditResult:
    """The audit's result at this revision of its items (read once, not on every widget change: the bootstrap
    intervals take about a second per method at 500 items)."""
    return when_free(lambda: get_client().audit_result(AuditRequest.model_validate_json(request_json)))


def current_result(request_json: str) -> Optional[AuditResult]:
    """What the audit has finished so far, or None after saying why it cannot be read now."""
    try:
        return read_result(request_json, st.session_state.get(f"{KEY}_revision", ""))
    except EXPECTED_ERRORS as exc:
        say(exc)
        return None


st.title("Calibration & audits")
st.caption("One example shows a feeling; an audit over a dataset shows whether the model's confidence can be "
           "trusted. Finished items are kept, so a stopped or crashed audit resumes where it left off.")
try:
    fields = read_form()
except EXPECTED_ERRORS as exc:
    say(exc)
    fields = FAILED
if fields is not None:
    request_json = checked_request(fields) if fields is not FAILED else None
    st.session_state[f"{KEY}_request"] = request_json
    st.session_state[f"{KEY}_request_source"] = st.session_state[f"{KEY}_source"]
    st.session_state[f"{KEY}_running"] = request_json is not None
current = shown_request()
if current:
    if st.session_state.get(f"{KEY}_running"):
        run(current)
        changed()
        st.session_state[f"{KEY}_running"] = False
    audit = current_result(current)
    if audit is not None and audit.n:
        render_result(audit)
    elif audit is not None:
        st.info("No item is finished yet: press Run audit to start.")
