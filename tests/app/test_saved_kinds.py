"""Every kind of saved result reopened on the Saved page as its page drew it (never a JSON blob), compared with
both prompts in the chosen colouring, and saved from the Sequence page; real default models, small requests."""
from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from backend.clients.local import LocalClient
from backend.schemas import SequenceRequest, TextAnalysis, TextRequest
from backend.schemas.audit import BUILTIN_DIGITS, AuditRequest
from backend.schemas.image import ImageInput, ImageRequest, SaliencyRequest, UncertaintyRequest
from backend.schemas.saved import SavedAttention, SavedImage
from backend.schemas.store import SavedItem, SaveRequest
from backend.schemas.text_attention import AttentionViewRequest, TextAttentionRequest
from backend.schemas.text_saliency import TextSaliencyRequest
from backend.store.repository import Store

pytestmark = pytest.mark.slow
MAIN = str(Path(__file__).resolve().parents[2] / "app" / "main.py")
TIMEOUT_S = 300
QUESTION = "What is the capital of France?"


@pytest.fixture(scope="module")
def client(engine, tmp_path_factory) -> LocalClient:
    """The in-process client on the session's engine, with a store of its own."""
    return LocalClient(engine=engine, store=Store(f"sqlite:///{tmp_path_factory.mktemp('saved')}/saved.sqlite"))


@pytest.fixture(scope="module")
def text(client) -> TextAnalysis:
    return client.analyze_text(TextRequest(prompt=QUESTION, max_new_tokens=6))


def saved(client, kind: str, payload: dict, title: str) -> SavedItem:
    """Save a payload of a kind through the client and read it back as the Saved page does."""
    item = client.save(SaveRequest(id=str(uuid.uuid4()), kind=kind, title=title, model="m", payload=payload))
    return client.get_saved(item.id)


def reopen(item: SavedItem) -> AppTest:
    """The Saved page's view of one item, run under AppTest."""
    def script(item_json: str) -> None:
        from backend.schemas.store import SavedItem
        from components.saved_views import render_saved

        render_saved(SavedItem.model_validate_json(item_json), key="saved_view")

    return AppTest.from_function(script, args=(item.model_dump_json(),), default_timeout=TIMEOUT_S).run()


def assert_drawn(at: AppTest) -> None:
    """No exception, no error and no JSON dump: the result was drawn with figures."""
    assert not at.exception and not at.error
    assert not at.json
    assert at.get("plotly_chart")


def test_a_saved_sequence_analysis_reopens_with_its_scores_and_evidence(client):
    result = client.analyze_sequence(SequenceRequest(text=TextRequest(prompt=QUESTION, max_new_tokens=6),
                                                     methods=["perplexity", "semantic_entropy"], samples=2))
    at = reopen(saved(client, "sequence", result.model_dump(mode="json"), "sequence"))
    assert_drawn(at)
    assert [t.label for t in at.tabs] == ["Scores", "Samples and meanings", "Similarity graph", "SAR relevance",
                                         "Claims", "Attention", "Perturbed prompts"]
    assert any(QUESTION in m.value for m in at.markdown)


def test_a_saved_attention_view_reopens_with_attention_and_saliency(client, text):
    attention = client.text_attention(TextAttentionRequest(model=text.model, ids=text.ids,
                                                           answer_start=text.answer_start,
                                                           view=AttentionViewRequest()))
    position = text.tokens[0].position
    saliency = client.text_saliency(TextSaliencyRequest(model=text.model, ids=text.ids,
                                                        answer_start=text.answer_start, method="input_x_gradient",
                                                        positions=[position]))
    payload = SavedAttention(analysis=text, selected=0, attention=attention, saliency=saliency)
    at = reopen(saved(client, "attention", payload.model_dump(mode="json"), "attention"))
    assert_drawn(at)
    assert [t.label for t in at.tabs] == ["Attention", "Saliency"]
    keys = {c.proto.id for c in at.get("plotly_chart")}
    assert len(keys) >= 5


def test_a_saved_image_result_reopens_with_classes_spread_and_maps(client):
    image = ImageInput(sample="cat")
    analysis = client.analyze_image(ImageRequest(image=image))
    uncertainty = client.image_uncertainty(UncertaintyRequest(image=image, method="mc_dropout", passes=2))
    saliency = client.image_saliency(SaliencyRequest(image=image, methods=["grad_cam"]))
    payload = json.loads(SavedImage(analysis=analysis, temperature=2.0, uncertainty=[uncertainty],
                                    saliency=[saliency]).model_dump_json())
    at = reopen(saved(client, "image", payload, "image"))
    assert_drawn(at)
    assert at.table and "MC dropout" in " ".join(at.table[0].value.columns)
    assert [s.value for s in at.subheader] == ["Epistemic vs. aleatoric", "Saliency"]


def test_a_saved_audit_reopens_with_its_diagrams_and_tables(client):
    request = AuditRequest(dataset=BUILTIN_DIGITS, methods=["softmax"], limit=40, batch_size=40)
    client.start_audit(request)
    client.run_audit_batch(request)
    result = client.audit_result(request)
    at = reopen(saved(client, "audit", result.model_dump(mode="json"), "audit"))
    assert_drawn(at)
    assert [t.label for t in at.tabs] == ["Reliability", "Error detection", "Recalibration", "Agreement", "Items",
                                          "Label issues", "Answer or abstain"]
    assert len(at.dataframe) >= 3


def test_comparison_shows_both_prompts_and_follows_the_colouring(client, text):
    other = client.analyze_text(TextRequest(prompt="Name a primary colour.", max_new_tokens=6))

    def script(first_json: str, second_json: str) -> None:
        from backend.schemas import TextAnalysis
        from components.saved_compare import render_comparison

        render_comparison(["France", "Colour"], [TextAnalysis.model_validate_json(first_json),
                                                 TextAnalysis.model_validate_json(second_json)], key="cmp")

    at = AppTest.from_function(script, args=(text.model_dump_json(), other.model_dump_json()),
                               default_timeout=TIMEOUT_S).run()
    assert not at.exception
    shown = " ".join(m.value for m in at.markdown)
    assert QUESTION in shown and "Name a primary colour" in shown
    at.radio(key="cmp_measure").set_value("entropy").run()
    specs = [chart.proto.spec for chart in at.get("plotly_chart")]
    assert len(specs) == 2 and all("Entropy (nats)" in spec for spec in specs)


def test_the_sequence_page_saves_its_result():
    at = AppTest.from_file(MAIN, default_timeout=TIMEOUT_S)
    at.run()
    at.switch_page("sequence_page.py").run()
    at.pills(key="seq_methods_generation").set_value(["perplexity"])
    at.pills(key="seq_methods_samples").set_value([])
    at.pills(key="seq_methods_ask").set_value([])
    at.number_input(key="seq_max_new_tokens").set_value(6)
    at.run()
    at.text_area(key="seq_prompt").set_value(QUESTION)
    next(b for b in at.button if b.label == "Run the selected methods").click().run()
    item = save_on_page(at, "sequence")
    assert item.payload["text"]["prompt"] == QUESTION
    assert_drawn(reopen(item))


def save_on_page(at: AppTest, kind: str) -> SavedItem:
    """Fill the page's save form with a fresh title, press Save, return the stored item."""
    title = f"{kind} {uuid.uuid4()}"
    next(w for w in at.text_input if w.label == "Title").set_value(title)
    next(b for b in at.button if b.label == "Save").click().run()
    assert not at.exception and any("Saved as" in s.value for s in at.success)
    found = [s for s in Store().list(kind=kind) if s.title == title]
    assert len(found) == 1
    return Store().get(found[0].id)


def test_the_attention_page_saves_its_view_with_the_saliency_shown():
    at = AppTest.from_file(MAIN, default_timeout=TIMEOUT_S)
    at.run()
    at.switch_page("attention_page.py").run()
    at.text_area(key="attn_prompt").set_value(QUESTION)
    at.text_area(key="attn_answer").set_value("Paris.")
    next(b for b in at.button if b.label == "Analyze").click().run()
    at.selectbox(key="attn_method").set_value("input_x_gradient").run()
    next(b for b in at.button if b.label == "Explain").click().run()
    item = save_on_page(at, "attention")
    payload = SavedAttention.model_validate(item.payload)
    assert payload.analysis.prompt == QUESTION and payload.attention is not None
    assert payload.saliency is not None and payload.saliency.method == "input_x_gradient"
    assert_drawn(reopen(item))


def test_the_image_page_saves_what_it_shows_at_its_temperature():
    at = AppTest.from_file(MAIN, default_timeout=TIMEOUT_S)
    at.run()
    at.switch_page("image_page.py").run()
    at.selectbox(key="image_sample").set_value("cat")
    at.button(key="FormSubmitter:image_form-Classify").click().run()
    at.slider(key="image_temperature").set_value(2.0).run()
    at.slider(key="image_passes").set_value(2)
    at.button(key="FormSubmitter:image_uncertainty_form-Run MC dropout and test-time augmentation").click().run()
    item = save_on_page(at, "image")
    payload = SavedImage.model_validate_json(json.dumps(item.payload))
    assert payload.temperature == 2.0 and payload.analysis.image.name
    assert [u.temperature for u in payload.uncertainty] == [2.0, 2.0]
    assert_drawn(reopen(item))


def test_the_kind_filter_offers_only_kinds_that_exist(monkeypatch, tmp_path, text):
    from tests.app.streamlit_caches import fresh_streamlit_caches

    url = f"sqlite:///{tmp_path / 'kinds.sqlite'}"
    monkeypatch.setenv("UQLENS_DATABASE_URL", url)
    Store(url).save(SaveRequest(id=str(uuid.uuid4()), kind="text", title="only text", model="m",
                                payload=text.model_dump(mode="json")))
    with fresh_streamlit_caches():
        at = AppTest.from_file(MAIN, default_timeout=TIMEOUT_S)
        at.run()
        at.switch_page("saved_page.py").run()
        assert not at.exception
        assert at.selectbox(key="saved_kind").options == ["all", "Text"]
