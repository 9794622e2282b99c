"""Sequence methods end to end on tiny random models: every method runs on the same generation as the token
heatmap, the result is consistent with its parts, reproducible with a seed, and bad requests say what to change."""
from __future__ import annotations

import json
import math

import pytest

from backend.sequence.methods import METHODS
from backend.errors import UserInputError
from backend.schemas import MeaningSource, SequenceAnalysis, SequenceRequest, TextRequest
from backend.sequence.pipeline import SequenceModels, analyze_sequence
from backend.text.generation import analyze_text

K = 4
TEXT = TextRequest(prompt="Name a colour.", max_new_tokens=5)


def embedding_meaning(threshold: float = 0.85) -> MeaningSource:
    return MeaningSource(kind="embedding", model="tiny-embedder", threshold=threshold, rule="cosine >= threshold")


@pytest.fixture(scope="module")
def models(tiny_lm, tiny_embedder) -> SequenceModels:
    return SequenceModels(lm=tiny_lm, embedder=tiny_embedder, nli=None, meaning=embedding_meaning())


@pytest.fixture(scope="module")
def result(models) -> SequenceAnalysis:
    return analyze_sequence(models, SequenceRequest(text=TEXT, samples=K))


def test_every_method_gives_a_score_in_registry_order(result):
    assert [s.name for s in result.scores] == METHODS.available() == result.methods
    for score in result.scores:
        assert score.value is not None or "error" in score.details, score.name
        if score.normalized is not None and score.name != "mean_kurtosis":
            assert -1e-9 <= score.normalized <= 1 + 1e-9, score.name


def test_scores_describe_the_same_generation_as_the_token_heatmap(result, tiny_lm):
    text = analyze_text(tiny_lm, TEXT)
    assert result.text.ids == text.ids
    assert [t.logprob for t in result.text.tokens] == pytest.approx([t.logprob for t in text.tokens])
    by_name = {s.name: s for s in result.scores}
    assert by_name["sequence_probability"].value == pytest.approx(math.exp(sum(t.logprob for t in text.tokens)))
    assert by_name["max_token_entropy"].value == pytest.approx(max(t.entropy for t in text.tokens))


def test_samples_clusters_and_graph_are_consistent(result):
    assert len(result.samples) == K
    for sample in result.samples:
        assert sample.logprob == pytest.approx(sum(sample.token_logprobs))
        assert 0 <= sample.cluster < len(result.clusters)
    assert sorted(i for c in result.clusters for i in c.members) == list(range(K))
    assert sum(c.mass for c in result.clusters) == pytest.approx(1.0)
    assert sum(s.weight for s in result.samples) == pytest.approx(1.0)
    assert sum(c.share for c in result.clusters) == pytest.approx(1.0)
    assert len(result.similarity) == K and all(len(row) == K for row in result.similarity)
    assert result.laplacian_eigenvalues == sorted(result.laplacian_eigenvalues)
    by_name = {s.name: s for s in result.scores}
    assert by_name["num_semantic_sets"].value == len(result.clusters)
    assert by_name["eigv"].details["eigenvalues"] == pytest.approx(result.laplacian_eigenvalues)
    assert result.meaning.kind == "embedding" and result.meaning.threshold == 0.85


def test_sar_weights_cover_the_answer(result):
    assert [t.text for t in result.token_relevance] == [t.text for t in result.text.tokens]
    total = sum(t.weight for t in result.token_relevance)
    assert total == pytest.approx(1.0) or total == 0.0
    assert all(t.relevance == 0.0 for t in result.token_relevance if t.text == "<|im_end|>")


def test_asking_the_model_keeps_the_prompts_it_used(result):
    by_name = {s.name: s for s in result.scores}
    assert "Proposed answer" in by_name["verbalized_confidence"].details["prompt"]
    assert "True or False" in by_name["p_true"].details["prompt"]
    assert by_name["p_true"].details["p_true_raw"] >= 0.0


def test_result_round_trips_through_json(result):
    assert SequenceAnalysis.model_validate_json(result.model_dump_json()).scores == result.scores
    json.dumps(result.model_dump(mode="json"), allow_nan=False)


def test_same_seed_gives_the_same_analysis(models, result):
    again = analyze_sequence(models, SequenceRequest(text=TEXT, samples=K))
    assert again.samples == result.samples
    assert [s.model_dump() for s in again.scores] == [s.model_dump() for s in result.scores]


def test_generation_methods_alone_need_no_samples_and_no_embedder(tiny_lm):
    bare = SequenceModels(lm=tiny_lm, embedder=None, nli=None, meaning=embedding_meaning())
    result = analyze_sequence(bare, SequenceRequest(text=TEXT, methods=["perplexity", "mean_kurtosis"]))
    assert [s.name for s in result.scores] == ["perplexity", "mean_kurtosis"]
    assert result.samples == [] and result.clusters == [] and result.meaning is None
    assert set(result.seconds) == {"generation", "kurtosis", "total"}


def test_a_zero_threshold_puts_every_sample_in_one_meaning(tiny_lm, tiny_embedder):
    lenient = SequenceModels(lm=tiny_lm, embedder=tiny_embedder, nli=None, meaning=embedding_meaning(0.0))
    result = analyze_sequence(lenient, SequenceRequest(text=TEXT, samples=3, methods=["semantic_entropy"],
                                                       similarity_threshold=0.0))
    assert len(result.clusters) == 1
    assert result.scores[0].value == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("methods, parameters, message", [
    (["no_such_method"], {}, "unknown method 'no_such_method'"),
    (["eccentricity"], {"eccentricity": {"eigenvalue_threshold": 5.0}}, "eigenvalue_threshold must be a number from "
                                                                         "0.01 to 2, got 5.0"),
    (["eccentricity"], {"eccentricity": {"nope": 1.0}}, "eccentricity has no parameter nope; its parameters are "
                                                        "eigenvalue_threshold"),
    (["perplexity"], {"sar": {"t": 0.1}}, "not among the selected methods"),
])
def test_bad_method_requests_say_what_to_change(models, methods, parameters, message):
    with pytest.raises(UserInputError, match=message):
        analyze_sequence(models, SequenceRequest(text=TEXT, methods=methods, method_parameters=parameters))


def test_request_validation():
    with pytest.raises(ValueError, match="samples"):
        SequenceRequest(text=TEXT, samples=1)
    with pytest.raises(ValueError, match="method name is empty"):
        SequenceRequest(text=TEXT, methods=["perplexity", " "])
    with pytest.raises(ValueError, match="Extra inputs"):
        SequenceRequest(text=TEXT, unknown=1)
    assert SequenceRequest(text=TEXT, methods=["eigv", "eigv", " degree"]).methods == ["eigv", "degree"]
