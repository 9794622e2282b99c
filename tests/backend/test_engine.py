"""The engine is a dispatcher built from the operations table: every analysis row is one of its methods, run on
what the row says (the request alone, a model under its lock, the sequence models), and it refuses the audit rows,
which need the stores a client has."""
from __future__ import annotations

import threading

import pytest

from backend.image.catalog import image_methods
from backend.schemas import DEFAULT_IMAGE_MODEL, TextRequest
from backend.sequence.catalog import sequence_methods
from backend.service.operations import Analyses, Operations, rows


def test_every_analysis_row_is_an_engine_method_and_no_audit_row_is(engine):
    for operation in rows(Analyses):
        assert getattr(engine, operation.method_name).__doc__ == operation.doc
    for operation in rows(Operations):
        assert not hasattr(engine, operation.method_name)
        if "audit store" in operation.runs_on:
            with pytest.raises(ValueError, match="through a client"):
                engine.call(operation, None)


def test_rows_run_on_the_request_or_on_the_model_the_request_names(engine):
    assert engine.sequence_methods() == sequence_methods()
    assert engine.image_methods(DEFAULT_IMAGE_MODEL) == image_methods(engine.image_model(DEFAULT_IMAGE_MODEL))


def test_a_text_row_runs_under_its_models_lock(engine, default_lm):
    lock = engine.model_lock(default_lm.spec.id)
    lock.acquire()
    done = threading.Event()
    worker = threading.Thread(target=lambda: (engine.analyze_text(TextRequest(prompt="Hi", max_new_tokens=1)),
                                              done.set()))
    worker.start()
    try:
        assert not done.wait(1.0), "the analysis ran while another holder had the model's lock"
    finally:
        lock.release()
    worker.join(60)
    assert done.is_set()


def test_the_engine_picks_a_rows_served_pipeline_only_for_a_served_text_model(tmp_path):
    from backend.engine import Engine
    from backend.models.registry import build_registry
    from backend.schemas import SequenceRequest
    registry = build_registry({"UQLENS_TEXT_MODELS": "far=openai+http://127.0.0.1:9/v1#m&vocab_size=10"})
    served_engine = Engine(registry, cache_dir=tmp_path, device="cpu")
    assert served_engine.serves(TextRequest(model="far", prompt="x"))
    assert served_engine.serves(SequenceRequest(text=TextRequest(model="far", prompt="x")))
    assert not served_engine.serves(TextRequest(prompt="x")) and not served_engine.serves("far")
    assert not served_engine.serves(TextRequest(model="not-registered", prompt="x"))
    specs, left_out = served_engine.runnable_methods(SequenceRequest(text=TextRequest(model="far", prompt="x")))
    assert {"mean_kurtosis", "rauq", "uqac"} == set(left_out)  # the full distribution, attention weights
    assert not set(left_out) & {s.name for s in specs} and len(specs) == len(sequence_methods()) - len(left_out)
