"""The Calibration & audits page under Streamlit's AppTest: a digits audit, and bad input."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.pages import open_page as open_app_page
from tests.app.streamlit_caches import fresh_streamlit_caches
from tests.backend.audit.photo_zips import labelled_entries, photo, zip_bytes

DIGITS = "Digits classifier (held-out scikit-learn digits)"


def open_page() -> AppTest:
    """The app on its Calibration & audits page."""
    return open_app_page("calibration_page.py", timeout_s=120)


@pytest.mark.slow
def test_digits_audit_shows_metrics_and_tabs():
    at = open_page()
    at.radio(key="calib_source").set_value(DIGITS).run()
    at.number_input(key="calib_limit_builtin-digits").set_value(60)
    at.button[0].click().run()
    assert not at.exception and not at.error
    assert at.subheader[0].value.startswith("60 items, accuracy")
    assert [t.label for t in at.tabs] == ["Reliability", "Error detection", "Recalibration", "Agreement", "Items",
                                          "Label issues", "Answer or abstain", "Compare two audits", "Export"]
    assert any("Binning: 10 equal-width bins" in c.value for c in at.caption)


@pytest.mark.slow
def test_no_method_says_what_to_change():
    at = open_page()
    at.radio(key="calib_source").set_value(DIGITS).run()
    at.multiselect(key="calib_methods_builtin-digits").set_value([])
    at.button[0].click().run()
    assert not at.exception and "Pick at least one confidence method" in at.error[0].value


IMAGES = "Labelled images (a .zip of class folders) with an image model"


def upload_photos(at: AppTest, data: bytes) -> AppTest:
    """Choose the labelled-images source, put the zip in the uploader and press Run audit."""
    at.radio(key="calib_source").set_value(IMAGES).run()
    at.file_uploader(key="calib_zip").upload("photos.zip", data, "application/zip")
    at.number_input(key="calib_limit_images").set_value(4)
    at.number_input(key="calib_batch").set_value(2)
    at.button(key="FormSubmitter:calib_form-Run audit").click().run()
    return at


@pytest.mark.slow
def test_image_zip_audit_shows_classes_and_items():
    at = upload_photos(open_page(), zip_bytes(labelled_entries("photos/")))
    assert not at.exception and not at.error
    assert at.subheader[0].value.startswith("4 items, accuracy")
    assert "model efficientnet-lite0 · data " in at.caption[1].value
    assert any("plus one column holding the mass of every other class" in c.value for c in at.caption)
    columns = [list(frame.value.columns) for frame in at.dataframe]
    assert any({"image", "predicted", "true class", "softmax"} <= set(c) for c in columns)


@pytest.mark.slow
def test_unknown_labels_say_which_folder_to_rename():
    at = upload_photos(open_page(), zip_bytes({"kitty/cat.png": photo("cat")}))
    assert not at.exception
    assert "'kitty'" in at.error[0].value and "Rename each folder" in at.error[0].value


@pytest.mark.slow
def test_the_page_audits_through_a_separate_backend(monkeypatch, engine, tmp_path):
    from backend.audit.store import AuditStore
    from backend.clients.local import LocalClient
    from tests.backend.service.conftest import running_server

    served = LocalClient(engine=engine, audit_store=AuditStore(f"sqlite:///{tmp_path}/served.sqlite"))
    with running_server(served) as url:
        monkeypatch.setenv("UQLENS_BACKEND_URL", url)
        with fresh_streamlit_caches():
            at = upload_photos(open_page(), zip_bytes(labelled_entries()))
            assert not at.exception and not at.error
            assert at.subheader[0].value.startswith("4 items, accuracy")
    audit_id = at.caption[1].value.split()[1]
    assert len(served.audit_store.items(audit_id)) == 4  # computed and kept by the service, batch by batch


def test_a_scores_csv_uploads_and_audits_without_a_model():
    rows = "\n".join(f"r{i},{int(i % 3 != 0)},{0.5 + i / 40:.3f}" for i in range(12))
    at = open_page()
    at.radio(key="calib_source").set_value(
        "Upload a file (JSONL/CSV of questions and answers, or CSV of scores and labels)").run()
    at.file_uploader(key="calib_upload").upload("my scores.csv", f"id,correct,p\n{rows}\n".encode(), "text/csv")
    at.text_input(key="calib_methods_text").set_value("p")
    at.button(key="FormSubmitter:calib_form-Run audit").click().run()
    assert not at.exception and not at.error
    assert at.subheader[0].value.startswith("12 items, accuracy")
    assert "model (precomputed) · data my_scores.csv" in at.caption[1].value


def test_backend_down_says_so_and_that_finished_items_are_kept(monkeypatch):
    monkeypatch.setenv("UQLENS_BACKEND_URL", "http://127.0.0.1:9")
    with fresh_streamlit_caches():
        at = open_page()
        at.radio(key="calib_source").set_value(DIGITS).run()
        at.button(key="FormSubmitter:calib_form-Run audit").click().run()
        assert not at.exception
        assert any("cannot reach the backend" in w.value and "Finished items are kept" in w.value
                   for w in at.warning)


SCORES_SOURCE = "Upload a file (JSONL/CSV of questions and answers, or CSV of scores and labels)"


def audit_scores(at: AppTest, name: str, data: bytes) -> AppTest:
    """Upload a scores CSV (column p) and press Run audit."""
    at.radio(key="calib_source").set_value(SCORES_SOURCE).run()
    at.file_uploader(key="calib_upload").upload(name, data, "text/csv")
    at.text_input(key="calib_methods_text").set_value("p")
    at.button(key="FormSubmitter:calib_form-Run audit").click().run()
    return at


def test_a_failed_upload_clears_the_previous_results():
    rows = "\n".join(f"r{i},{int(i % 3 != 0)},{0.5 + i / 40:.3f}" for i in range(12))
    at = audit_scores(open_page(), "good.csv", f"id,correct,p\n{rows}\n".encode())
    assert at.subheader[0].value.startswith("12 items, accuracy")
    at = audit_scores(at, "bad.csv", b"id,p\nr1,0.5\n")
    assert not at.exception and at.error
    assert not at.subheader  # the error stands alone, not above good.csv's results


def test_results_are_not_shown_under_another_data_source():
    rows = "\n".join(f"r{i},{int(i % 3 != 0)},{0.5 + i / 40:.3f}" for i in range(12))
    at = audit_scores(open_page(), "good.csv", f"id,correct,p\n{rows}\n".encode())
    assert at.subheader[0].value.startswith("12 items, accuracy")
    at.radio(key="calib_source").set_value(DIGITS).run()
    assert not at.subheader
    at.radio(key="calib_source").set_value(SCORES_SOURCE).run()
    assert at.subheader[0].value.startswith("12 items, accuracy")  # back on its source, it shows again


def metrics_table(at: AppTest):
    return next(frame.value for frame in at.dataframe if "ECE 95 % CI" in frame.value.columns)


@pytest.mark.slow
def test_digits_default_audits_every_held_out_image_with_intervals():
    from backend.audit.digits import test_size

    at = open_page()
    at.radio(key="calib_source").set_value(DIGITS).run()
    assert at.number_input(key="calib_limit_builtin-digits").value == test_size()
    at.button(key="FormSubmitter:calib_form-Run audit").click().run()
    assert not at.exception and at.subheader[0].value.startswith(f"{test_size()} items, accuracy")
    table = metrics_table(at)
    assert table["AUROC"].notna().all() and table["ECE"].notna().all()  # every method judged, none "None"
    assert table["AUROC 95 % CI"].str.match(r"0\.\d{4} – 0\.\d{4}").all()
    assert not any("only" in w.value and "items" in w.value for w in at.warning)


@pytest.mark.slow
def test_a_small_audit_warns_and_says_why_a_metric_is_undefined():
    at = open_page()
    at.radio(key="calib_source").set_value(DIGITS).run()
    at.number_input(key="calib_limit_builtin-digits").set_value(20)
    at.button(key="FormSubmitter:calib_form-Run audit").click().run()
    assert not at.exception and at.subheader[0].value.startswith("20 items, accuracy 100.0%")
    assert any(w.value.startswith("Only 20 items: below 100") for w in at.warning)
    table = metrics_table(at).set_index("method")
    assert table.loc["margin", "AUROC 95 % CI"] == ("undefined: every item is right: there are no right and "
                                                    "wrong answers to tell apart")
    assert table.loc["margin", "ECE 95 % CI"].startswith("undefined: Platt scaling needs right and wrong items")


SERVED_MODELS = ("served=openai+http://127.0.0.1:9/v1#big-model;"  # never asked: listing models makes no request
                 "generic=openai+http://127.0.0.1:9/v1#big-model&engine=openai")


def test_question_audits_offer_served_models_with_their_controls(monkeypatch):
    """A served text model is offered for questions (not for images), with a Requests in flight control; a model
    that cannot score a given answer (a generic OpenAI-compatible server) does not offer the sequence methods,
    and the page says why."""
    monkeypatch.setenv("UQLENS_TEXT_MODELS", SERVED_MODELS)
    with fresh_streamlit_caches():
        at = open_page()
        box = at.selectbox(key="calib_model_builtin-qa")
        assert {"served", "generic", "smollm2-135m-instruct"} <= set(box.options)
        assert box.value == "smollm2-135m-instruct"
        assert "calib_concurrency" not in [n.key for n in at.number_input]  # in-process: batches, no requests
        box.set_value("served").run()
        assert not at.exception
        assert at.number_input(key="calib_concurrency").value == 8
        assert any("served is served by vllm: one request per question" in c.value for c in at.caption)
        assert "semantic_entropy" in at.multiselect(key="calib_methods_builtin-qa_limited").options
        assert any(c.value.startswith("Not available for served: rauq, uqac (needs attention weights") for c in at.caption)
        at.selectbox(key="calib_model_builtin-qa").set_value("generic").run()
        methods = at.multiselect(key="calib_methods_builtin-qa_limited")
        assert "semantic_entropy" not in methods.options and "max_entropy" in methods.options
        assert methods.value == ["mean_logprob", "geo_mean_prob", "max_entropy"]
        assert any(c.value.startswith("Not available for generic: predictive_entropy, semantic_entropy, ") and
                   ", p_true, " in c.value and "(needs the server to score a given answer" in c.value for c in at.caption)
        at.radio(key="calib_source").set_value(IMAGES).run()
        assert "served" not in at.selectbox(key="calib_model_images").options
