"""Every sequence method on the real default models (SmolLM2-135M-Instruct, all-MiniLM-L6-v2), checked against
a direct transformers forward and the token-level analysis of the same request."""
from __future__ import annotations

import math

import pytest
import torch

from backend.sequence.methods import METHODS
from backend.schemas import DEFAULT_EMBEDDING_MODEL, SequenceAnalysis, SequenceRequest, TextRequest
from backend.schemas.sequence import DEFAULT_SIMILARITY_THRESHOLD

pytestmark = pytest.mark.slow
TEXT = TextRequest(prompt="What is the capital of France?", max_new_tokens=8)


@pytest.fixture(scope="module")
def result(engine) -> SequenceAnalysis:
    return engine.analyze_sequence(SequenceRequest(text=TEXT, samples=3))


def test_all_methods_score_the_greedy_answer(result):
    assert "Paris" in result.text.generated_text
    assert [s.name for s in result.scores] == METHODS.available()
    failed = {s.name: s.details.get("error") for s in result.scores if s.value is None}
    assert set(failed) <= {"verbalized_confidence"}, failed  # a small model may answer without a number
    for score in result.scores:
        assert score.value is None or math.isfinite(score.value)


def test_the_analysis_is_the_token_heatmaps_generation(engine, result):
    text = engine.analyze_text(TEXT)
    assert result.text.ids == text.ids
    assert [t.entropy for t in result.text.tokens] == pytest.approx([t.entropy for t in text.tokens], abs=1e-6)


def test_sample_logprobs_equal_a_direct_transformers_forward(default_lm, result):
    prompt = result.text.ids[:result.text.answer_start]
    for sample in result.samples:
        ids = torch.tensor([prompt + sample.ids])
        with torch.inference_mode():
            logits = default_lm.model(input_ids=ids).logits[0, len(prompt) - 1:-1].double()
        expected = torch.log_softmax(logits / result.sample_temperature, -1)
        expected = expected.gather(1, torch.tensor(sample.ids)[:, None])[:, 0].tolist()
        assert sample.token_logprobs == pytest.approx(expected, abs=1e-4)


def test_meaning_comes_from_the_embedding_model_with_its_threshold(result):
    assert result.meaning.kind == "embedding" and result.meaning.model == DEFAULT_EMBEDDING_MODEL
    assert result.meaning.threshold == DEFAULT_SIMILARITY_THRESHOLD


def test_p_true_reads_the_models_next_token_probabilities(result):
    p_true = next(s for s in result.scores if s.name == "p_true")
    raw_true, raw_false = p_true.details["p_true_raw"], p_true.details["p_false_raw"]
    assert 0 < raw_true + raw_false <= 1
    assert p_true.value == pytest.approx(raw_true / (raw_true + raw_false))


def test_kle_is_the_entropy_of_the_heat_kernel_of_the_graph_shown(result):
    import numpy as np
    from backend.analyses.kernel_scores import kernel_language_entropy
    kle = next(s for s in result.scores if s.name == "kle")
    value, density, _ = kernel_language_entropy(np.array(result.similarity), kle.details["t"])
    assert kle.value == pytest.approx(value, rel=1e-12)
    assert np.array(kle.details["kernel"]) == pytest.approx(density, abs=1e-15)
    assert 0 <= kle.value <= math.log(len(result.samples)) + 1e-12


def test_cocoa_reads_the_answers_surprisal_and_its_claim_rule_affinity_to_each_sample(engine, result):
    from backend.sequence.evidence import meaning_by_embedding
    cocoa = next(s for s in result.scores if s.name == "cocoa")
    surprisal = -sum(t.logprob for t in result.text.tokens)
    assert cocoa.details["uncertainty"] == pytest.approx(surprisal, rel=1e-12)
    _same, affinity = meaning_by_embedding(engine.embedding_model(DEFAULT_EMBEDDING_MODEL),
                                           [result.text.generated_text.strip(), *[s.text for s in result.samples]],
                                           TEXT.prompt, DEFAULT_SIMILARITY_THRESHOLD)
    assert cocoa.details["answer_similarity"] == pytest.approx(affinity[0, 1:].tolist(), abs=1e-6)
    similarity = cocoa.details["answer_similarity"]
    assert cocoa.value == pytest.approx(surprisal * sum(1 - s for s in similarity) / len(similarity), rel=1e-9)
