"""Imported logs scored like a generated answer, with no model: numbers against hand-computed values."""
from __future__ import annotations

import json
import math

import pytest

from backend.errors import UserInputError
from backend.imports.analysis import FEW_SAMPLES, NO_MODEL, import_logs
from backend.imports.limits import DEFAULT_VOCAB_SIZE
from backend.schemas.imports import ImportRequest
from tests.backend.imports.logs import chat_response, completion_response, jsonl

LN = math.log
PARIS = [("Par", LN(0.75), [("Par", LN(0.75)), ("Lon", LN(0.25))]),
         ("is", LN(0.5), [("is", LN(0.5)), ("is.", LN(0.3)), ("!", LN(0.2))])]
LONDON = [("Lon", LN(0.25), [("Par", LN(0.75)), ("Lon", LN(0.25))]),
          ("don", LN(0.9), [("don", LN(0.9)), ("g", LN(0.1))])]
H_PAR = -(0.75 * LN(0.75) + 0.25 * LN(0.25))
H_IS = -(0.5 * LN(0.5) + 0.3 * LN(0.3) + 0.2 * LN(0.2))


def scores_of(group) -> dict[str, float]:
    return {s.name: s.value for s in group.analysis.scores}


def run(content: str, **options):
    return import_logs(None, ImportRequest(content=content, **options))


def test_one_response_gives_the_generation_scores_by_hand_and_leaves_out_what_needs_samples():
    result = run(json.dumps(chat_response(PARIS, model="smollm2")), vocab_size=3)
    (group,) = result.groups
    text = group.analysis.text
    assert [t.prob for t in text.tokens] == pytest.approx([0.75, 0.5])
    assert text.model == "smollm2" and text.generated_text == "Paris" and text.engine == "openai"
    assert text.tokens[0].top_k[1].text == "Lon" and text.tokens[0].margin == pytest.approx(0.5)
    scores = scores_of(group)
    assert scores["sequence_probability"] == pytest.approx(0.375)
    assert scores["perplexity"] == pytest.approx(1 / math.sqrt(0.375))
    assert scores["mean_token_entropy"] == pytest.approx((H_PAR + H_IS) / 2)
    assert scores["max_token_entropy"] == pytest.approx(H_IS)
    assert group.analysis.left_out == {"predictive_entropy": FEW_SAMPLES, "lexical_similarity": FEW_SAMPLES}
    assert "entropies are exact" in result.note


def test_entropy_scores_are_estimates_within_valid_bounds_and_the_note_says_the_vocabulary_is_assumed():
    partial = [("a", LN(0.5), [("a", LN(0.5)), ("b", LN(0.2))])]
    result = run(json.dumps(chat_response(partial)))
    assert result.vocab_size == DEFAULT_VOCAB_SIZE and not result.vocab_size_given
    assert "assumed (not in the log" in result.note and "midpoint of entropy_bounds" in result.note
    score = next(s for s in result.groups[0].analysis.scores if s.name == "mean_token_entropy")
    lower, upper = score.details["value_bounds"]
    assert lower < score.value < upper and "estimate" in score.details


def test_lines_with_one_prompt_are_samples_scored_by_hand():
    prompt = {"prompt": "Capital of France?"}
    content = jsonl({**chat_response(PARIS), **prompt}, {**completion_response(PARIS), **prompt},
                    {**chat_response(LONDON), **prompt}, chat_response(LONDON))
    result = run(content, vocab_size=3)
    assert result.responses == 4 and len(result.groups) == 2
    group = result.groups[0]
    assert group.sources == ["line 1, choices[0]", "line 2, choices[0]", "line 3, choices[0]"]
    assert [s.text for s in group.analysis.samples] == ["Paris", "Paris", "London"]
    scores = scores_of(group)
    # predictive entropy: the mean of -log p(answer) over the 3 samples
    assert scores["predictive_entropy"] == pytest.approx((2 * -LN(0.375) - LN(0.25 * 0.9)) / 3)
    # ROUGE-L F1 of the 3 pairs: Paris/Paris 1, Paris/London 0 (twice)
    assert scores["lexical_similarity"] == pytest.approx(1 / 3)
    assert result.groups[1].prompt is None and "predictive_entropy" in result.groups[1].analysis.left_out


def test_n_choices_of_one_response_are_its_samples():
    result = run(json.dumps(chat_response(PARIS, choices=3)), vocab_size=3)
    (group,) = result.groups
    assert len(group.analysis.samples) == 3 and scores_of(group)["lexical_similarity"] == pytest.approx(1.0)


def test_all_leaves_out_what_needs_the_model_and_a_named_one_is_refused():
    result = run(json.dumps(chat_response(PARIS, choices=2)), vocab_size=3,
                 methods=["sequence_probability", "predictive_entropy"])
    assert set(scores_of(result.groups[0])) == {"sequence_probability", "predictive_entropy"}
    with pytest.raises(UserInputError, match="an imported log cannot run p_true .*no model to ask"):
        run(json.dumps(chat_response(PARIS)), methods=["perplexity", "p_true"])
    with pytest.raises(UserInputError, match="cannot run mean_kurtosis .*full next-token distribution"):
        run(json.dumps(chat_response(PARIS)), methods=["mean_kurtosis"])
    with pytest.raises(UserInputError, match="not_a_method"):
        run(json.dumps(chat_response(PARIS)), methods=["not_a_method"])


def test_references_are_graded_and_audited():
    content = jsonl({**chat_response(PARIS), "prompt": "Capital of France?", "reference": "Paris"},
                    {**chat_response(LONDON), "prompt": "Capital of Italy?", "reference": "Rome"},
                    {**chat_response(PARIS), "prompt": "Say a city"})
    result = run(content, vocab_size=3, methods=["sequence_probability", "mean_token_entropy"])
    assert [g.correct for g in result.groups] == [True, False, None]
    audit = result.audit
    assert (audit.graded, audit.correct, audit.accuracy) == (2, 1, 0.5)
    by_name = {m.name: m for m in audit.methods}
    # the wrong answer is the less probable one (0.225 < 0.375): sequence probability separates them perfectly
    assert by_name["sequence_probability"].auroc == pytest.approx(1.0)
    assert by_name["sequence_probability"].scored == 2
    assert run(json.dumps(chat_response(PARIS))).audit is None
