"""Inv-Entropy's perturbed prompts: the rule-based rewordings, the farthest-first choice among them, and the method
on its constructed case (the registry's hand table has the value; here, what its details show)."""
from __future__ import annotations

import numpy as np
import pytest

from backend.analyses.evidence import PERTURBATION_CANDIDATES, PERTURBED_PROMPTS
from backend.sequence.method_spec import run_method
from backend.sequence.methods import METHODS
from backend.sequence.perturbation import farthest_first, perturbation_candidates, perturbed_prompts
from tests.backend.sequence.perturbation_cases import perturbed_evidence

QUESTIONS = ["What is the capital of France?", "Tell me exactly where the Eiffel Tower is. Please be short.",
             "2+2", "  Who wrote Hamlet?  "]


@pytest.mark.parametrize("question", QUESTIONS)
def test_candidates_keep_the_question_and_differ_from_it_and_each_other(question):
    candidates = perturbation_candidates(question)
    assert PERTURBED_PROMPTS <= len(candidates) <= PERTURBATION_CANDIDATES
    assert len(set(candidates)) == len(candidates) and question.strip() not in candidates
    core = question.strip().rstrip("?.! ").split()[-1].lower()  # the last word is never a filler word here
    assert all(core in c.lower() for c in candidates)


def test_farthest_first_takes_the_least_similar_row_each_time():
    similarity = np.array([[1.0, 0.9, 0.2, 0.5],
                           [0.9, 1.0, 0.3, 0.1],
                           [0.2, 0.3, 1.0, 0.8],
                           [0.5, 0.1, 0.8, 1.0]])
    # from row 0: row 2 (0.2); then max-similarity to {0, 2}: row 1 0.9, row 3 0.8 -> row 3; then row 1
    assert farthest_first(similarity, 3) == [2, 3, 1]
    assert farthest_first(similarity, 10) == [2, 3, 1]


def test_perturbed_prompts_are_chosen_by_the_given_embedding():
    question = "What is the capital of France?"
    candidates = perturbation_candidates(question)
    chosen_last = candidates[-1]

    def embed(texts):  # the question and the last candidate apart from everything else, which all coincide
        return np.array([[1.0, 0.0] if t == question else [0.0, 1.0] if t == chosen_last else [0.7, 0.7]
                         for t in texts])
    prompts, vectors = perturbed_prompts(question, embed, count=2)
    assert prompts[0] == question and prompts[1] == chosen_last and prompts[2] in candidates and len(prompts) == 3
    assert vectors.tolist() == embed(prompts).tolist()  # the embeddings that chose them, kept for the inverse model


def test_inv_entropy_details_show_the_prompts_answers_and_inverse_model():
    result = run_method(METHODS.get("inv_entropy"), perturbed_evidence(), {})
    d = result.details
    assert d["prompts"] == ["Why?", "Question: why?"] and d["answers"] == [["a", "b"], ["b"]]
    assert d["pair_prompt"] == [0, 0, 1] and d["q"] == pytest.approx([0.5, 0.25, 0.5])
    assert np.array(d["posterior_by_prompt"]) == pytest.approx(np.array([[1.0, 0.0], [0.5, 0.5], [0.5, 0.5]]))


def test_without_perturbations_the_method_says_why():
    evidence = perturbed_evidence()
    evidence.perturbation = None
    result = run_method(METHODS.get("inv_entropy"), evidence, {})
    assert result.value is None and "no perturbed prompts" in result.details["error"]
