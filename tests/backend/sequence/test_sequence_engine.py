"""The engine's sequence operations on tiny registered models: the NLI path when an NLI model is registered,
the embedding path otherwise, cost estimates, and clear errors for models of the wrong kind."""
from __future__ import annotations

import numpy as np
import pytest

from backend.clients.local import LocalClient
from backend.engine import Engine
from backend.errors import UserInputError
from backend.models.registry import ModelRegistry, ModelSpec
from backend.schemas import SequenceRequest, TextRequest
from backend.sequence.methods import METHODS
from tests.backend.tiny_models import save_tiny_encoder

TEXT = TextRequest(model="tiny-lm", prompt="Name a colour.", max_new_tokens=4)


@pytest.fixture(scope="module")
def folders(tmp_path_factory, tiny_lm, tiny_nli_folder):
    lm_folder = tmp_path_factory.mktemp("tiny-lm")
    tiny_lm.model.save_pretrained(lm_folder, safe_serialization=True)
    tiny_lm.tokenizer.save_pretrained(lm_folder)
    return {"lm": lm_folder, "embedder": save_tiny_encoder(tmp_path_factory.mktemp("tiny-enc")),
            "nli": tiny_nli_folder}


def tiny_engine(folders, tmp_path, *, with_nli: bool) -> Engine:
    registry = ModelRegistry()
    registry.register(ModelSpec("tiny-lm", "text", "hf", str(folders["lm"]), "tiny LM", chat=True))
    registry.register(ModelSpec("tiny-enc", "embedding", "sentence-transformers", str(folders["embedder"]), "enc"))
    if with_nli:
        registry.register(ModelSpec("tiny-nli", "nli", "hf-sequence-classification", str(folders["nli"]), "NLI"))
    return Engine(registry=registry, cache_dir=tmp_path, device="cpu")


def request(**extra) -> SequenceRequest:
    return SequenceRequest(text=TEXT, samples=3, embedding_model="tiny-enc", **extra)


def test_a_registered_nli_model_decides_meaning(folders, tmp_path):
    engine = tiny_engine(folders, tmp_path, with_nli=True)
    result = LocalClient(engine).analyze_sequence(request(methods=["semantic_entropy", "eigv"]))
    assert result.meaning.kind == "nli" and result.meaning.model == "tiny-nli"
    assert "entailing" in result.meaning.rule
    assert engine.pool.loaded_ids() == ["tiny-lm", "tiny-nli"]  # the NLI path needs no embeddings


def test_kle_and_cocoa_on_a_registered_nli_model_read_its_graph_and_ask_it_about_the_answer(folders, tmp_path):
    from backend.analyses.kernel_scores import kernel_language_entropy
    from backend.sequence.evidence import answer_similarity_by_nli
    engine = tiny_engine(folders, tmp_path, with_nli=True)
    result = LocalClient(engine).analyze_sequence(request(methods=["kle", "cocoa"]))
    assert result.meaning.kind == "nli" and engine.pool.loaded_ids() == ["tiny-lm", "tiny-nli"]
    kle, cocoa = result.scores
    assert kle.value == pytest.approx(kernel_language_entropy(np.array(result.similarity), 0.6)[0], rel=1e-12)
    expected = answer_similarity_by_nli(engine.nli_model("tiny-nli"), result.text.generated_text.strip(),
                                        [s.text for s in result.samples])
    assert cocoa.details["answer_similarity"] == pytest.approx(expected, abs=1e-6)


def test_without_nli_the_embedding_model_decides_with_its_threshold(folders, tmp_path):
    engine = tiny_engine(folders, tmp_path, with_nli=False)
    result = engine.analyze_sequence(request(methods=["semantic_entropy"], similarity_threshold=0.5))
    assert result.meaning.kind == "embedding" and result.meaning.threshold == 0.5
    assert "at least 0.5" in result.meaning.rule


def test_the_embedding_model_can_be_chosen_over_a_registered_nli_model(folders, tmp_path):
    engine = tiny_engine(folders, tmp_path, with_nli=True)
    assert engine.meaning_source(request(meaning_model="tiny-enc")).kind == "embedding"


def test_generation_methods_load_no_other_model(folders, tmp_path):
    engine = tiny_engine(folders, tmp_path, with_nli=True)
    engine.analyze_sequence(request(methods=["perplexity"]))
    assert engine.pool.loaded_ids() == ["tiny-lm"]


@pytest.mark.parametrize("extra, message", [
    ({"meaning_model": "tiny-lm"}, "meaning needs an NLI or an embedding model"),
    ({"meaning_model": "nope"}, "unknown model id 'nope'"),
    ({"embedding_model": "tiny-lm", "methods": ["token_sar"]}, "pick an embedding model"),
])
def test_models_of_the_wrong_kind_are_named(folders, tmp_path, extra, message):
    engine = tiny_engine(folders, tmp_path, with_nli=False)
    fields = {"samples": 3, "embedding_model": "tiny-enc", **extra}
    with pytest.raises(UserInputError, match=message):
        engine.analyze_sequence(SequenceRequest(text=TEXT, **fields))


def test_meaning_by_another_embedding_model_is_refused_with_the_fix(folders, tmp_path):
    engine = tiny_engine(folders, tmp_path, with_nli=False)
    engine.registry.register(ModelSpec("other-enc", "embedding", "sentence-transformers",
                                       str(folders["embedder"]), "enc"))
    with pytest.raises(UserInputError, match="set embedding_model to 'other-enc'"):
        engine.meaning_source(request(meaning_model="other-enc"))


def test_cost_estimate_counts_each_piece_of_evidence_once(folders, tmp_path):
    engine = tiny_engine(folders, tmp_path, with_nli=True)
    costs = {c.evidence: c for c in engine.estimate_sequence_cost(request())}
    assert list(costs) == ["generation", "kurtosis", "token_relevance", "samples", "sample_embeddings", "meaning",
                           "answer_meaning", "sample_token_relevance", "claims", "claim_alternatives",
                           "claim_support", "verbalized", "p_true", "attention", "perturbations"]
    assert (costs["generation"].lm_passes, costs["generation"].lm_batch) == (5, 1)
    assert (costs["samples"].lm_passes, costs["samples"].lm_batch) == (4, 3)
    assert costs["meaning"].nli_pairs == 6 and costs["meaning"].embedding_texts == 0
    assert costs["answer_meaning"].nli_pairs == 6 and costs["answer_meaning"].methods == ["cocoa"]
    assert costs["sample_token_relevance"].embedding_texts == 3 * 5
    assert costs["claim_alternatives"].nli_pairs == 2 * 4 * 4  # T = 4 tokens, 4 alternatives each, both ways
    assert costs["claim_support"].nli_pairs == 3 and costs["claims"].methods == ["ccp", "luq"]
    # Inv-Entropy: 4 rewordings of K = 3 answers, T = 4 steps each; 15 candidates + the question, 5 prompts, 15 answers
    assert (costs["perturbations"].lm_passes, costs["perturbations"].lm_batch) == (4 * 4, 3)
    assert costs["perturbations"].embedding_texts == 16 + 5 * 3 and costs["perturbations"].methods == ["inv_entropy"]
    assert {"semantic_entropy", "eigv", "sar"} <= set(costs["samples"].methods)
    assert all(c.seconds >= 0 for c in costs.values()) and costs["samples"].seconds > 0
    assert 3 in engine.pool.pass_seconds("tiny-lm")  # timed once at the samples' batch size, then kept


def test_cost_of_scoring_a_given_answer_has_no_decoding(folders, tmp_path):
    engine = tiny_engine(folders, tmp_path, with_nli=False)
    text = TEXT.model_copy(update={"answer": "Blue"})
    costs = {c.evidence: c for c in engine.estimate_sequence_cost(
        SequenceRequest(text=text, methods=["perplexity"], embedding_model="tiny-enc"))}
    assert list(costs) == ["generation"] and costs["generation"].lm_passes == 1


def test_samples_for_a_given_answer_are_costed_at_max_new_tokens(folders, tmp_path):
    engine = tiny_engine(folders, tmp_path, with_nli=False)
    text = TEXT.model_copy(update={"answer": "Blue", "max_new_tokens": 7})
    costs = {c.evidence: c for c in engine.estimate_sequence_cost(SequenceRequest(
        text=text, methods=["sar", "token_sar"], samples=3, embedding_model="tiny-enc"))}
    answer_tokens = costs["token_relevance"].embedding_texts - 1  # the given answer's own length
    assert costs["generation"].lm_passes == 1 and (costs["samples"].lm_passes, costs["samples"].lm_batch) == (7, 3)
    assert costs["sample_token_relevance"].embedding_texts == 3 * (7 + 1) and answer_tokens != 7


def test_methods_metadata_through_the_client(folders, tmp_path):
    infos = LocalClient(tiny_engine(folders, tmp_path, with_nli=False)).sequence_methods()
    assert len(infos) == len(METHODS) and {i.group for i in infos} == {"generation", "samples", "ask"}
