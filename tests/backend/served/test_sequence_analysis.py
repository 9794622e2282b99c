"""Sequence methods on a served model (backend.served.sequence_analysis).

Pure parts without a server: P(True) from a top-k list, the bounds of a mean, end-token marks, and methods a served
model cannot run refused (or, with 'all', left out) before any request. Against the session's real vLLM: every
method but mean kurtosis has a value; the K samples' log-probabilities equal the in-process model's teacher-forced
ones on the same ids at sample temperature 1.0 (MEASURED below); the sample scores are the in-process formulas on
the served evidence; the entropy methods' exact in-process values lie inside their value_bounds; token relevance
equals the in-process one; P(True) and verbalized confidence are read from the served replies as in-process.

Measured (this file, `test_samples_logprobs_equal_the_in_process_teacher_forced_ones`, K = 8 at temperature 1.0 on
"What is the capital of France?", 24 new tokens at most): the largest difference over every sampled token is printed
by the test; on this machine it was 4.1e-5 nats, inside LOGPROB_TOL = 1e-4 nats.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from backend.analyses import sample_scores as samp
from backend.analyses.meaning_graph import degree_uncertainty, eigenvalue_uncertainty, laplacian_spectrum
from backend.analyses.rouge import mean_pairwise_rouge_l
from backend.analyses.self_report import FALSE_WORDS, TRUE_WORDS, p_true_prompt
from backend.engine import Engine
from backend.errors import UserInputError
from backend.models.registry import build_registry
from backend.schemas import SequenceAnalysis, SequenceRequest, TextRequest
from backend.sequence.self_assessment import ask_confidence, single_token_ids
from backend.served.evidence import Alternative
from backend.served.sequence_analysis import end_token_marks, p_true_from_top
from backend.text.generation import answer_logits, build_model_input
from tests.backend.served.test_against_vllm import LOGPROB_TOL
from tests.vllm_server import SERVED_NAME

SERVED_ID = "served-smollm2"
PROMPT = "What is the capital of France?"
K = 8
MAX_NEW_TOKENS = 24


def on_vllm(test):
    """Marks a test that needs the session's real vLLM (slow, vllm)."""
    return pytest.mark.slow(pytest.mark.vllm(test))


def test_p_true_sums_the_spellings_found_among_the_top_k_once_each():
    top = [Alternative("True", math.log(0.5)), Alternative(" True", math.log(0.1)), Alternative("Yes", math.log(0.2)),
           Alternative("false", math.log(0.05)), Alternative("True", math.log(0.01))]
    p_true, p_false, seen = p_true_from_top(top)
    assert (p_true, p_false) == pytest.approx((0.6, 0.05)) and seen == ["True", " True", "false"]
    assert p_true_from_top([Alternative(" False", math.log(0.3))])[:2] == pytest.approx((0.0, 0.3))
    with pytest.raises(ValueError, match="neither True nor False is among the top-20"):
        p_true_from_top([Alternative("Yes", -0.1), Alternative("No", -2.0)])


def test_end_tokens_are_marked_last():
    assert end_token_marks(3, True) == [False, False, True] and end_token_marks(3, False) == [False] * 3
    assert end_token_marks(0, True) == []


@pytest.fixture(scope="module")
def unreachable(tmp_path_factory) -> Engine:
    """An engine whose served model points at a port nobody listens on: any request would fail to connect."""
    registry = build_registry({"UQLENS_TEXT_MODELS": "far=openai+http://127.0.0.1:9/v1#m&vocab_size=10;"
                                                     "plain=openai+http://127.0.0.1:9/v1#m&engine=openai"})
    return Engine(registry, cache_dir=tmp_path_factory.mktemp("cache"), device="cpu")


def test_methods_a_served_model_cannot_run_are_refused_before_any_request(unreachable):
    with pytest.raises(UserInputError, match=r"cannot run mean_kurtosis \(needs the full next-token distribution: "
                                             r"pick a model loaded in UQ Lens's process\); deselect it"):
        unreachable.analyze_sequence(SequenceRequest(text=TextRequest(model="far", prompt="x"),
                                                     methods=["mean_kurtosis", "p_true"]))
    with pytest.raises(UserInputError, match="cannot score a given answer"):
        unreachable.analyze_sequence(SequenceRequest(text=TextRequest(model="plain", prompt="x", answer="y"),
                                                     methods=["p_true"]))
    specs, left_out = unreachable.runnable_methods(SequenceRequest(text=TextRequest(model="far", prompt="x")))
    attention = "needs attention weights: pick a model loaded in UQ Lens's process"
    assert left_out == {"mean_kurtosis": "needs the full next-token distribution: pick a model loaded in UQ Lens's "
                                         "process", "rauq": attention, "uqac": attention}


@pytest.fixture(scope="module")
def served_engine(vllm_url, default_vocab_size, engine) -> Engine:
    """An engine whose registry adds the vLLM-served default model as SERVED_ID."""
    registry = build_registry({"UQLENS_TEXT_MODELS": f"{SERVED_ID}=openai+{vllm_url}#{SERVED_NAME}"
                                                     f"&vocab_size={default_vocab_size}"})
    return Engine(registry, cache_dir=engine.cache_dir, device="cpu")


@pytest.fixture(scope="module")
def analysis(served_engine) -> SequenceAnalysis:
    """Every method on the served model's greedy answer, K samples at temperature 1.0."""
    return served_engine.analyze_sequence(SequenceRequest(
        text=TextRequest(model=SERVED_ID, prompt=PROMPT, max_new_tokens=MAX_NEW_TOKENS), samples=K,
        sample_temperature=1.0))


@on_vllm
def test_every_method_but_kurtosis_has_a_value_and_kurtosis_is_left_out_with_why(analysis):
    values = {s.name: s.value for s in analysis.scores}
    assert "mean_kurtosis" not in values and len(values) == 25  # ccp, luq and inv_entropy run on the served evidence too
    assert [name for name, value in values.items() if value is None] == [], {
        s.name: s.details.get("error") for s in analysis.scores}
    attention = "needs attention weights: pick a model loaded in UQ Lens's process"
    assert analysis.left_out == {"mean_kurtosis": "needs the full next-token distribution: pick a model loaded in "
                                                  "UQ Lens's process", "rauq": attention, "uqac": attention}
    assert analysis.text.engine == "vllm" and analysis.sample_logprob_temperature == 1.0
    assert "before temperature" in analysis.evidence_note and len(analysis.samples) == K


@on_vllm
def test_kle_and_cocoa_need_only_the_served_samples_and_log_probabilities(analysis):
    scores = {s.name: s for s in analysis.scores}
    assert np.array(scores["kle"].details["kernel"]).shape == (K, K)
    cocoa = scores["cocoa"].details
    assert cocoa["uncertainty"] == pytest.approx(-sum(t.logprob for t in analysis.text.tokens), rel=1e-12)
    assert len(cocoa["answer_similarity"]) == K and all(0 <= s <= 1 for s in cocoa["answer_similarity"])


@on_vllm
def test_samples_logprobs_equal_the_in_process_teacher_forced_ones(analysis, default_lm):
    _text, prompt_ids, _used = build_model_input(default_lm, PROMPT, None)
    assert analysis.text.ids[:analysis.text.answer_start] == prompt_ids  # the engine's chat template is ours
    worst = 0.0
    for sample in analysis.samples:
        logits = answer_logits(default_lm, prompt_ids + sample.ids, len(prompt_ids))
        local = torch.log_softmax(logits.to(torch.float64), dim=-1).gather(
            1, torch.tensor(sample.ids)[:, None]).squeeze(1)
        assert len(sample.token_logprobs) == len(sample.ids)
        worst = max(worst, float(np.max(np.abs(np.array(sample.token_logprobs) - local.numpy()))))
    print(f"largest |served - in-process| sample token log-probability over {K} samples: {worst:.2e} nats")
    assert worst <= LOGPROB_TOL
    assert any(s.stop_reason == "eos" for s in analysis.samples)


@on_vllm
def test_sample_scores_are_the_in_process_formulas_on_the_served_evidence(analysis):
    scores = {s.name: s for s in analysis.scores}
    mean_logprobs = [s.logprob / len(s.token_logprobs) for s in analysis.samples]
    clusters = [c.members for c in analysis.clusters]
    masses = samp.cluster_masses(samp.sample_weights(mean_logprobs), clusters)
    affinity = np.array(analysis.similarity)
    expected = {
        "predictive_entropy": samp.predictive_entropy([s.logprob for s in analysis.samples]),
        "semantic_entropy": samp.semantic_entropy(masses),
        "lexical_similarity": mean_pairwise_rouge_l([s.text for s in analysis.samples]),
        "num_semantic_sets": float(len(clusters)),
        "eigv": eigenvalue_uncertainty(laplacian_spectrum(affinity)[0]),
        "degree": degree_uncertainty(affinity),
        "sequence_probability": math.exp(math.fsum(t.logprob for t in analysis.text.tokens)),
    }
    assert {name: scores[name].value for name in expected} == pytest.approx(expected, rel=1e-9)
    assert [s.logprob for s in analysis.samples] == pytest.approx([sum(s.token_logprobs) for s in analysis.samples])


@on_vllm
def test_the_entropy_methods_are_estimates_whose_bounds_hold_the_exact_in_process_value(analysis, engine):
    local = engine.analyze_text(TextRequest(prompt=PROMPT, max_new_tokens=MAX_NEW_TOKENS))
    assert [t.id for t in local.tokens] == [t.id for t in analysis.text.tokens]  # the same greedy answer
    exact = {"mean_token_entropy": float(np.mean([t.entropy for t in local.tokens])),
             "max_token_entropy": max(t.entropy for t in local.tokens)}
    for name, value in exact.items():
        score = next(s for s in analysis.scores if s.name == name)
        lower, upper = score.details["value_bounds"]
        assert lower - LOGPROB_TOL <= value <= upper + LOGPROB_TOL and lower <= score.value <= upper
        assert "an estimate" in score.details["estimate"] and len(score.details["normalized_bounds"]) == 2
    assert next(s for s in analysis.scores if s.name == "mean_token_entropy").details["value_bounds"] == \
        pytest.approx(list(np.mean([t.entropy_bounds for t in analysis.text.tokens], axis=0)))


@on_vllm
def test_token_relevance_from_the_engines_pieces_equals_the_in_process_one(analysis, engine):
    local = engine.analyze_sequence(SequenceRequest(
        text=TextRequest(prompt=PROMPT, max_new_tokens=MAX_NEW_TOKENS), methods=["token_sar"]))
    assert [r.text for r in analysis.token_relevance] == [r.text for r in local.token_relevance]
    assert [r.similarity_without for r in analysis.token_relevance] == pytest.approx(
        [r.similarity_without for r in local.token_relevance], abs=1e-6)
    served_sar = next(s for s in analysis.scores if s.name == "token_sar").value
    assert served_sar == pytest.approx(local.scores[0].value, abs=len(local.token_relevance) * LOGPROB_TOL)


@on_vllm
def test_p_true_and_verbalized_are_read_from_the_served_replies(analysis, default_lm):
    scores = {s.name: s for s in analysis.scores}
    answer = analysis.text.generated_text
    _input, local_reply = ask_confidence(default_lm, PROMPT, answer, None)
    verbalized = scores["verbalized_confidence"].details
    assert verbalized["reply"] == local_reply and "How confident are you" in verbalized["prompt"]
    p_true = scores["p_true"].details
    assert p_true["spellings_seen"] and p_true["top_k_seen"] == 20 and "Is the proposed answer true" in p_true["prompt"]
    _text, ids, _used = build_model_input(default_lm, p_true_prompt(PROMPT, answer), None)
    with torch.inference_mode():
        logits = default_lm.model(input_ids=torch.tensor([ids])).logits[0, -1]
    probs = torch.softmax(logits.to(torch.float64), dim=-1)

    def local(words):
        return float(sum(probs[single_token_ids(default_lm, [w])].sum() for w in p_true["spellings_seen"] if w in words))
    assert (p_true["p_true_raw"], p_true["p_false_raw"]) == pytest.approx((local(TRUE_WORDS), local(FALSE_WORDS)),
                                                                          abs=LOGPROB_TOL)
    assert scores["p_true"].value == pytest.approx(p_true["p_true_raw"] / (p_true["p_true_raw"] + p_true["p_false_raw"]))


@on_vllm
def test_the_cost_of_a_served_analysis_is_timed_through_the_engine(served_engine, default_tokenizer):
    costs = served_engine.estimate_sequence_cost(SequenceRequest(
        text=TextRequest(model=SERVED_ID, prompt=PROMPT, answer="Paris, I think."), samples=3))
    by_evidence = {c.evidence: c for c in costs}
    assert "kurtosis" not in by_evidence and not any("mean_kurtosis" in c.methods for c in costs)
    answer_tokens = len(default_tokenizer("Paris, I think.", add_special_tokens=False)["input_ids"])
    samples_at_most = TextRequest(prompt=PROMPT).max_new_tokens  # samples are drawn up to it, answer given or not
    assert (by_evidence["samples"].lm_passes, by_evidence["samples"].lm_batch) == (samples_at_most, 3)
    assert by_evidence["token_relevance"].embedding_texts == answer_tokens + 1  # the given answer's own tokens
    assert by_evidence["generation"].lm_passes == 1 and by_evidence["samples"].seconds > 0
