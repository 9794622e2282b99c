"""Image page: classify a photo, see how sure the model is (temperature, MC dropout vs. test-time augmentation)
and which pixels drive the answer or the doubt (saliency overlays, several methods side by side)."""
from __future__ import annotations

import json
import math
from typing import Optional

import streamlit as st
from pydantic import ValidationError

from app.image_services import analyze_image, image_methods, image_saliency, image_uncertainty
from app.services import default_model_index, get_client, model_ids
from backend.schemas.image import (SAMPLE_NAMES, ClassScore, ImageAnalysis, ImageInput, ImageMethods, ImageRequest,
                                   SaliencyAnalysis, SaliencyRequest, UncertaintyRequest)
from backend.schemas.saved import SavedImage
from components.class_probabilities import distribution_at, render_class_probabilities, scores_at
from components.errors import EXPECTED_ERRORS, REFUSED_ERRORS, show_error
from components.parameter_controls import parameter_control, render_method_parameters
from components.pass_spread import render_entropy_split, render_pass_spread, uncertainty_frame
from components.saliency_overlay import render_saliency_grid
from components.save_form import render_save_form
from components.text_safety import markdown_literal

KEY = "image"
TOP_K = 5
SAMPLE_LABELS = {"cat": "Cat (Chelsea)", "coffee": "Coffee cup", "astronaut": "Astronaut (Eileen Collins)",
                 "rocket": "Rocket launch"}
DEFAULT_SALIENCY = ("grad_cam", "attention_rollout", "integrated_gradients", "occlusion")
TARGETS = {"top": "Top class", "class": "Another class", "entropy": "Entropy (what makes it unsure)"}


def select_upload() -> None:
    """Choosing a file selects it as the image (removing it goes back to the sample photo)."""
    chosen = st.session_state.get(f"{KEY}_upload") is not None
    st.session_state[f"{KEY}_source"] = "Upload" if chosen else "Sample photo"


def select_sample() -> None:
    """Choosing a sample photo selects it as the image."""
    st.session_state[f"{KEY}_source"] = "Sample photo"


def read_image_form() -> Optional[tuple[str, str]]:
    """The image choice (outside the form, so that choosing a file or a sample selects it at once) and the model
    form; returns (model id, ImageInput JSON) when submitted with a usable image."""
    image_models = model_ids("image")
    source = st.radio("Image", ["Sample photo", "Upload"], horizontal=True, key=f"{KEY}_source")
    left, right = st.columns(2)
    sample = left.selectbox("Sample photo", SAMPLE_NAMES, format_func=SAMPLE_LABELS.get, key=f"{KEY}_sample",
                            help="real photos bundled with scikit-image", on_change=select_sample)
    upload = right.file_uploader("Your image (PNG, JPEG or WebP)", type=["png", "jpg", "jpeg", "webp"],
                                 key=f"{KEY}_upload", help="checked by content; at most 40 megapixels; choosing "
                                                           "a file selects it", on_change=select_upload)
    with st.form(f"{KEY}_form"):
        model = st.selectbox("Model", image_models, key=f"{KEY}_model",
                             index=default_model_index(image_models, "image"))
        submitted = st.form_submit_button("Classify", type="primary")
    if not submitted:
        return None
    if source == "Upload" and upload is None:
        st.error("Choose a file to upload, or switch to a sample photo.")
        return None
    try:
        image = (ImageInput(data=upload.getvalue(), filename=upload.name) if source == "Upload"
                 else ImageInput(sample=sample))
    except ValidationError as exc:
        show_error(exc)
        return None
    return model, image.model_dump_json()


def render_prediction(result: ImageAnalysis) -> float:
    """The crop the model saw, its top classes at the chosen temperature, entropy and margin; returns the
    temperature, which the uncertainty and saliency sections use too."""
    picture, numbers = st.columns([2, 3])
    with picture:
        st.image(result.model_input_png, caption="What the model saw", width="stretch")
        st.caption(f"{markdown_literal(result.image.name)}: {result.image.width} x {result.image.height} "
                   f"{result.image.format}. {result.preprocessing}.")
        for note in result.image.notes:
            st.caption(f"Converted: {note}.")
    with numbers:
        temperature = st.slider("Temperature", 0.1, 5.0, 1.0, 0.05, key=f"{KEY}_temperature",
                                help="divides the logits before the softmax: below 1 sharpens, above 1 flattens")
        stats = distribution_at(result.logits, temperature, top_k=TOP_K)
        render_class_probabilities(scores_at(result.top_k, stats), key=f"{KEY}_prediction")
        first, second, third = st.columns(3)
        first.metric("Top probability", f"{stats.top_probs[0]:.3f}", help="higher = more confident; range [0, 1]")
        first.caption("higher = more confident")
        second.metric("Entropy (nats)", f"{stats.entropy:.3f}",
                      help=f"spread over all {len(result.logits)} classes; 0 = certain, ln {len(result.logits)} = "
                           f"{result.max_entropy:.2f} = uniform")
        second.caption(f"higher = more uncertain · {stats.entropy / result.max_entropy:.0%} of ln C")
        third.metric("Top-2 margin", f"{stats.margin:.3f}", help="p(top-1) - p(top-2); near 0 = a coin toss")
        third.caption("higher = more confident · [0, 1]")
        st.caption(f"T = {temperature:.2f} applies to the whole page: these classes, MC dropout and test-time "
                   f"augmentation, and the entropy that saliency can explain.")
    return temperature


def at_temperature(request_json: str, model: type[UncertaintyRequest] | type[SaliencyRequest],
                   temperature: float) -> str:
    """The stored request with the page's temperature, as JSON (the cache key of its result)."""
    return model.model_validate_json(request_json).model_copy(update={"temperature": temperature}).model_dump_json()


def render_uncertainty(model: str, image_json: str, methods: ImageMethods, temperature: float) -> None:
    """MC dropout and test-time augmentation side by side at the page's temperature, with the entropy split of
    both."""
    st.subheader("Epistemic vs. aleatoric")
    st.markdown("Both methods run the model K times and average. **MC dropout** varies the *model* (dropout on): "
                "disagreement between passes (mutual information) is the model's own, epistemic, doubt. "
                "**Test-time augmentation** varies the *image* (crop, flip, light): a large spread means the answer "
                "hangs on nuisance details of the data. Expected entropy is the doubt every single pass already has.")
    passes_spec = next(p for p in methods.uncertainty[0].parameters if p.name == "passes")
    with st.form(f"{KEY}_uncertainty_form"):
        left, right = st.columns(2)
        passes = parameter_control(passes_spec, key=f"{KEY}_passes", container=left, slider=True)
        seed = right.number_input("Seed", 0, 2**31 - 1, 0, key=f"{KEY}_uncertainty_seed")
        run = st.form_submit_button("Run MC dropout and test-time augmentation")
    if run:
        st.session_state[f"{KEY}_uncertainty_requests"] = [
            UncertaintyRequest(model=model, image=ImageInput.model_validate_json(image_json), method=m.name,
                               passes=int(passes), seed=int(seed)).model_dump_json() for m in methods.uncertainty]
    requests = st.session_state.get(f"{KEY}_uncertainty_requests")
    if not requests:
        return
    try:
        with st.spinner("Running MC dropout and test-time augmentation…"):
            results = [image_uncertainty(at_temperature(r, UncertaintyRequest, temperature)) for r in requests]
    except EXPECTED_ERRORS as exc:
        show_error(exc, kept="Press the button again to retry.")
        return
    st.table(uncertainty_frame(results))
    st.caption(f"Entropies in nats, from 0 (certain) to ln {len(methods.class_names)} = "
               f"{math.log(len(methods.class_names)):.2f} (uniform); higher = more uncertain. Predictive = expected "
               f"+ mutual information. Every pass's softmax at T = {results[0].temperature:.2f} (the temperature "
               f"slider above).")
    render_entropy_split(results, key=f"{KEY}_uncertainty")
    for column, result in zip(st.columns(len(results)), results):
        with column:
            st.markdown(f"**{result.label}** · {result.passes} passes · {result.seconds:.1f} s")
            st.caption(f"Varies: {result.stochastic_part}.")
            render_pass_spread(result, key=f"{KEY}_{result.method}")


def read_saliency_form(model: str, image_json: str, methods: ImageMethods,
                       top_class: ClassScore) -> Optional[list[str]]:
    """The saliency form; returns one request JSON per chosen method when submitted."""
    names = [m.name for m in methods.saliency]
    by_name = {m.name: m for m in methods.saliency}
    class_names = methods.class_names
    with st.form(f"{KEY}_saliency_form"):
        chosen = st.multiselect("Methods", names, default=[n for n in DEFAULT_SALIENCY if n in names][:3],
                                format_func=lambda n: by_name[n].label, key=f"{KEY}_saliency_methods")
        left, right = st.columns(2)
        target = left.radio("Explain", list(TARGETS), format_func=TARGETS.get, key=f"{KEY}_target")
        # set through the session state (not `index`), so that a new photo's top class reaches the browser too
        st.session_state.setdefault(f"{KEY}_class_index", top_class.index)
        class_index = right.selectbox("Class (for 'Another class')", range(len(class_names)),
                                      key=f"{KEY}_class_index",
                                      format_func=lambda i: f"{i}: {class_names[i]}")
        with st.expander("Method settings"):
            params = render_method_parameters(methods.saliency, key=f"{KEY}_param", per_row=2)
        submitted = st.form_submit_button("Explain", type="primary")
    if not submitted:
        return None
    if not chosen:
        st.error("Pick at least one saliency method.")
        return None
    image = ImageInput.model_validate_json(image_json)
    return [SaliencyRequest(model=model, image=image, methods=[name], target=target,
                            class_index=int(class_index) if target == "class" else None,
                            params={name: params[name]} if name in params else {}).model_dump_json()
            for name in chosen]


def explained_value(result: SaliencyAnalysis, prediction: ImageAnalysis, temperature: float) -> str:
    """The explained target's value at the page's temperature: the entropy the result was computed at, or the
    class's probability from the prediction's logits (a class map explains the logit, which T does not change)."""
    if result.target == "entropy":
        return f"{result.target_value:.3f} nats at T = {result.temperature:.2f}"
    stats = distribution_at(prediction.logits, temperature)
    return f"p = {float(stats.probs[result.target_index]):.3f} at T = {temperature:.2f}"


def render_saliency(model: str, image_json: str, methods: ImageMethods, prediction: ImageAnalysis,
                    temperature: float) -> None:
    """The saliency form and the overlays, one method at a time with a progress bar. The entropy target is
    computed at the page's temperature; class targets explain the logit, the same at every temperature."""
    st.subheader("Saliency: which pixels drive the answer, or the doubt")
    with st.expander("How to read these maps"):
        for method in methods.saliency:
            st.markdown(f"- **{method.label}** ({method.paper}; cost: {method.cost}): {method.description}")
    requests = read_saliency_form(model, image_json, methods, prediction.top_k[0])
    if requests is not None:
        st.session_state[f"{KEY}_saliency_requests"] = requests
    requests = st.session_state.get(f"{KEY}_saliency_requests")
    if not requests:
        return
    results = []
    progress = st.progress(0.0, text="Computing saliency maps…")
    try:
        for done, request in enumerate(requests):
            entropy = SaliencyRequest.model_validate_json(request).target == "entropy"
            results.append(image_saliency(at_temperature(request, SaliencyRequest, temperature) if entropy
                                          else request))
            progress.progress((done + 1) / len(requests), text=f"{done + 1} of {len(requests)} maps")
    except EXPECTED_ERRORS as exc:
        progress.empty()
        show_error(exc, kept="Press Explain again to retry.")
        return
    progress.empty()
    first = results[0]
    scope = ("the entropy of the softmax at this temperature" if first.target == "entropy" else
             "the class's logit, which the temperature does not change (the same maps at every T)")
    st.markdown(f"Explaining **{markdown_literal(first.target_label)}** "
                f"({explained_value(first, prediction, temperature)}). Maps cover the {first.maps[0].shape[0]} x "
                f"{first.maps[0].shape[1]} crop the model saw; they explain {scope}.")
    opacity = st.slider("Overlay opacity", 0.0, 1.0, 0.65, 0.05, key=f"{KEY}_opacity",
                        help="0 shows only the photo, 1 the map at full strength")
    explained = ("the predictive entropy (nats)" if first.target == "entropy"
                 else f"the logit of {first.target_label}")
    render_saliency_grid(first.model_input_png, [r.maps[0] for r in results], key=f"{KEY}_saliency",
                         opacity=opacity, explained=explained)


def shown_requests(temperature: float) -> tuple[list[str], list[str]]:
    """The uncertainty and saliency requests whose results are on screen, at the page's temperature (saliency of a
    class explains its logit, the same at every temperature, so only the entropy target takes it)."""
    uncertainty = [UncertaintyRequest.model_validate_json(r).model_copy(update={"temperature": temperature})
                   .model_dump_json() for r in st.session_state.get(f"{KEY}_uncertainty_requests") or []]
    saliency = []
    for request_json in st.session_state.get(f"{KEY}_saliency_requests") or []:
        request = SaliencyRequest.model_validate_json(request_json)
        saliency.append(request.model_copy(update={"temperature": temperature}).model_dump_json()
                        if request.target == "entropy" else request_json)
    return uncertainty, saliency


def save_result(prediction: ImageAnalysis, model: str, image_json: str) -> None:
    """The save form of what is shown: the prediction at the page's temperature, MC dropout / TTA and the saliency
    maps (gathered from the caches only when Save is pressed)."""
    temperature = float(st.session_state.get(f"{KEY}_temperature", 1.0))
    uncertainty, saliency = shown_requests(temperature)
    image = ImageInput.model_validate_json(image_json)

    def payload() -> dict:
        try:
            spreads, maps = [image_uncertainty(r) for r in uncertainty], [image_saliency(r) for r in saliency]
        except REFUSED_ERRORS:
            spreads, maps = [], []
        return json.loads(SavedImage(analysis=prediction, temperature=temperature, uncertainty=spreads,
                                     saliency=maps).model_dump_json())

    render_save_form(key=KEY, kind="image", model=model, default_title=f"{prediction.top_k[0].label} · "
                     f"{prediction.image.name}", payload=payload,
                     request={"model": model, "image": image.sample or image.filename, "temperature": temperature},
                     content_key=json.dumps([model, image_json, temperature, uncertainty, saliency]),
                     save=get_client().save)


def run_prediction(model: str, image_json: str) -> Optional[tuple[ImageAnalysis, ImageMethods]]:
    """The cached prediction and the model's methods, or None after a clear message."""
    request = ImageRequest(model=model, image=ImageInput.model_validate_json(image_json), top_k=TOP_K)
    try:
        with st.spinner("Loading the model (first use only) and classifying…"):
            result = analyze_image(request.model_dump_json())
            methods = image_methods(model)
    except EXPECTED_ERRORS as exc:
        show_error(exc, kept="Press Classify again to retry.")
        return None
    return result, methods


st.title("Image: how sure, and why")
st.caption("Classify a photo with an ImageNet model, see how confident it is, where that confidence comes from, "
           "and which pixels make it unsure.")
submitted_form = read_image_form()
if submitted_form is not None:
    st.session_state[f"{KEY}_current"] = submitted_form
    for stale in ("uncertainty_requests", "saliency_requests", "class_index"):
        st.session_state.pop(f"{KEY}_{stale}", None)
current = st.session_state.get(f"{KEY}_current")
if current:
    model_id, image_json = current
    outcome = run_prediction(model_id, image_json)
    if outcome is None:
        st.session_state.pop(f"{KEY}_current")
    else:
        prediction, model_methods = outcome
        page_temperature = render_prediction(prediction)
        render_uncertainty(model_id, image_json, model_methods, page_temperature)
        render_saliency(model_id, image_json, model_methods, prediction, page_temperature)
        save_result(prediction, model_id, image_json)
