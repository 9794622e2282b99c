"""Embedding and NLI loaders, and NLI models in the registry."""
from __future__ import annotations

import json

import numpy as np
import pytest

from backend.models.nli_loader import load_nli_model, nli_label_indices
from backend.models.registry import ModelRegistry, ModelSpec, build_registry
from tests.backend.tiny_models import save_tiny_nli


def test_label_indices_are_found_by_name():
    assert nli_label_indices({0: "CONTRADICTION", 1: "NEUTRAL", 2: "ENTAILMENT"}) == (2, 0)
    assert nli_label_indices({0: "entailment", 1: "neutral", 2: "contradiction"}) == (0, 2)


def test_a_classifier_without_nli_labels_is_refused_with_its_labels_named():
    with pytest.raises(ValueError, match="LABEL_0"):
        nli_label_indices({0: "LABEL_0", 1: "LABEL_1"})


def test_loading_a_folder_without_nli_labels_fails_loudly(tmp_path):
    folder = save_tiny_nli(tmp_path / "sentiment", {0: "negative", 1: "positive"})
    with pytest.raises(ValueError, match="negative"):
        load_nli_model(ModelSpec("x", "nli", "hf-sequence-classification", str(folder), "x"), "cpu")


def test_tiny_embedder_embeds_identical_texts_identically(tiny_embedder):
    vectors = tiny_embedder.embed(["Paris", "Paris", "Lyon"])
    assert vectors.shape == (3, tiny_embedder.dimension)
    assert np.allclose(vectors[0], vectors[1]) and not np.allclose(vectors[0], vectors[2])
    assert tiny_embedder.embed([]).shape == (0, tiny_embedder.dimension)


def test_nli_models_register_with_their_loader():
    registry = ModelRegistry()
    registry.register(ModelSpec("my-nli", "nli", "hf-sequence-classification", "/models/nli", "NLI"))
    assert registry.available("nli") == ["my-nli"]
    with pytest.raises(ValueError, match="cannot load a nli model"):
        registry.register(ModelSpec("bad", "nli", "hf", "/models/nli", "NLI"))


def test_models_file_entry_without_loader_gets_the_kinds_loader(tmp_path):
    path = tmp_path / "models.json"
    path.write_text(json.dumps([{"id": "my-nli", "kind": "nli", "location": "/models/deberta-mnli"}]))
    registry = build_registry({"UQLENS_MODELS_FILE": str(path)})
    assert registry.get("my-nli").loader == "hf-sequence-classification"
    assert registry.get("my-nli").info().kind == "nli"
