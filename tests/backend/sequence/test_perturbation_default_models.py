"""Inv-Entropy on the real default models (SmolLM2-135M-Instruct, all-MiniLM-L6-v2): the perturbed prompts'
answers equal sampling each one directly, and the value equals the paper's walk recomputed here, loop by loop,
from embeddings of the shown prompts and answers."""
from __future__ import annotations

import math

import numpy as np
import pytest

from backend.schemas import DEFAULT_EMBEDDING_MODEL, SequenceAnalysis, SequenceRequest, TextRequest
from backend.analyses.evidence import PERTURBED_PROMPTS
from backend.sequence.sampling import sample_answers
from backend.text.generation import build_model_input

pytestmark = pytest.mark.slow
TEXT = TextRequest(prompt="What is the capital of France?", max_new_tokens=8)
K = 2


@pytest.fixture(scope="module")
def result(engine) -> SequenceAnalysis:
    return engine.analyze_sequence(SequenceRequest(text=TEXT, methods=["inv_entropy"], samples=K))


def details(result: SequenceAnalysis) -> dict:
    (score,) = result.scores
    assert score.name == "inv_entropy" and score.value is not None, score.details
    return score.details


def test_the_question_and_its_rewordings_each_answered_k_times(result):
    d = details(result)
    assert d["prompts"][0] == TEXT.prompt and len(d["prompts"]) == PERTURBED_PROMPTS + 1
    assert len(set(d["prompts"])) == len(d["prompts"]) and all(len(group) == K for group in d["answers"])
    assert d["answers"][0] == [s.text for s in result.samples]
    assert "perturbations" in result.seconds


def test_each_rewording_is_answered_as_sampling_it_directly(default_lm, result):
    request = SequenceRequest(text=TEXT, samples=K)
    for index, (prompt, answers) in enumerate(zip(details(result)["prompts"][1:], details(result)["answers"][1:]), 1):
        ids = build_model_input(default_lm, prompt, None)[1]
        direct = sample_answers(default_lm, ids, k=K, temperature=request.sample_temperature, max_new_tokens=8,
                                seed=TEXT.seed + index)
        assert answers == [default_lm.tokenizer.decode(s.ids, skip_special_tokens=True).strip() for s in direct]


def walk_by_loops(prompts: np.ndarray, answers: np.ndarray) -> float:
    """The dual random walk written out: transitions by |cos|, p(x_k | y_k) = sum_j P_Y[k, j] P_X[j, k]."""
    n = len(answers)

    def transitions(vectors: np.ndarray) -> list[list[float]]:
        sims = [[abs(float(vectors[i] @ vectors[j]) / (np.linalg.norm(vectors[i]) * np.linalg.norm(vectors[j])))
                 for j in range(n)] for i in range(n)]
        return [[s / sum(row) for s in row] for row in sims]
    walk_x, walk_y = transitions(prompts), transitions(answers)
    own = [sum(walk_y[k][j] * walk_x[j][k] for j in range(n)) for k in range(n)]
    return -sum(q * math.log(q) for q in own)


def test_the_value_is_the_walk_over_the_shown_prompts_and_answers(engine, result):
    d = details(result)
    embedder = engine.embedding_model(DEFAULT_EMBEDDING_MODEL)
    pair_prompts = [d["prompts"][p] for p in d["pair_prompt"]]
    flat = [a for group in d["answers"] for a in group]
    expected = walk_by_loops(embedder.embed(pair_prompts).astype(np.float64), embedder.embed(flat).astype(np.float64))
    (score,) = result.scores
    assert score.value == pytest.approx(expected, rel=1e-5)
    assert 0 < score.normalized <= 1 and score.normalized == pytest.approx(score.value / (len(flat) / math.e))
