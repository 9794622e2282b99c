"""The method registry: metadata of every entry, and every method's value and normalised value on small
constructed cases worked out by hand (K identical answers, K unrelated answers, a three-token answer); the token
values the audit and the Text page read; the registry's guards and its error for an unknown name."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from backend.analyses.evidence import EVIDENCE, Evidence, required_evidence
from backend.claims.split import ClaimSpan
from backend.errors import UserInputError
from backend.registry import UnknownNameError
from backend.sequence.method_spec import MethodResult, MethodSpec, run_method
from backend.sequence.methods import METHODS, default_registry, method_names
from tests.backend.sequence.attention_cases import ATTENTION_HAND
from tests.backend.sequence.perturbation_cases import PERTURBATION_HAND

LN2 = math.log(2)
ONE_CLAIM = [ClaimSpan("A b c", 0, 5, 0, 3)]  # the three-token answer as one claim (luq)
EPS = 1e-3


def answer_evidence(**extra) -> Evidence:
    """A three-token answer with p = 0.5, 0.25, 0.8 and entropies 0.1, 0.7, 0.4 nats over a vocabulary of 10."""
    fields = dict(logprobs=[math.log(0.5), math.log(0.25), math.log(0.8)], entropies=[0.1, 0.7, 0.4],
                  special=[False, False, False], vocab_size=10, kurtosis=[-2 / 3, 4 / 3],
                  token_similarity=[0.9, 0.6, 1.0], verbalized_reply="I'd say 80%", p_true_probs=(0.3, 0.1))
    return Evidence(**{**fields, **extra})


def identical_samples() -> Evidence:
    """K = 3 copies of one two-token answer (each token p = 0.5), one meaning, embeddings equal."""
    return answer_evidence(sample_token_logprobs=[[math.log(0.5)] * 2] * 3, sample_texts=["Paris"] * 3,
                           sample_special=[[False, False]] * 3, clusters=[[0, 1, 2]], affinity=np.ones((3, 3)),
                           sample_embeddings=np.tile([[0.6, 0.8, 0.0]], (3, 1)),
                           sample_token_similarity=[[0.9, 0.7]] * 3, answer_similarity=[1.0, 1.0, 1.0],
                           claims=ONE_CLAIM, claim_support=np.ones((1, 3)))


def unrelated_samples() -> Evidence:
    """K = 3 one-token answers with p = 1/2, 1/4, 1/8, three meanings, orthogonal embeddings."""
    return answer_evidence(sample_token_logprobs=[[math.log(0.5)], [math.log(0.25)], [math.log(0.125)]],
                           sample_texts=["alpha", "beta", "gamma"], sample_special=[[False]] * 3,
                           clusters=[[0], [1], [2]], affinity=np.eye(3), sample_embeddings=np.eye(3),
                           sample_token_similarity=[[0.5]] * 3, answer_similarity=[0.0, 0.0, 0.0],
                           claims=ONE_CLAIM, claim_support=np.zeros((1, 3)))


def half_agreeing_samples() -> Evidence:
    """The unrelated samples, the answer agreeing fully with one, half with one and not with the third."""
    return replace(unrelated_samples(), answer_similarity=[1.0, 0.5, 0.0])


def claim_evidence() -> Evidence:
    """The three-token answer as two claims (tokens 0-1 and 2), each token's alternatives with their NLI classes."""
    return answer_evidence(claims=[ClaimSpan("A b", 0, 3, 0, 2), ClaimSpan("c", 4, 5, 2, 3)], claim_alternatives=[
        [(0.5, "entail"), (0.25, "contra"), (0.1, "entail")], [(0.25, "entail"), (0.5, "neutral")],
        [(0.8, "entail"), (0.1, "contra")]])


def half_supported() -> Evidence:
    """The unrelated samples, the answer's one claim supported fully by one sample, half by one, not by the third."""
    return replace(unrelated_samples(), claim_support=np.array([[1.0, 0.5, 0.0]]))


def logistic(x: float) -> float:
    return 1 / (1 + math.exp(-x))


TOKEN_SAR = 0.2 * LN2 + 0.8 * math.log(4)  # weights 0.2, 0.8, 0 on -ln 0.5, -ln 0.25, -ln 0.8
SE_UNRELATED = -sum(m * math.log(m) for m in (4 / 7, 2 / 7, 1 / 7))  # weights 1/2 : 1/4 : 1/8 normalised
MAX_KURTOSIS_V10 = (100 - 30 + 3) / 9 - 3
VOLUME_IDENTICAL = math.log(3 + EPS) + 2 * math.log(EPS)
# KLE on W = J (3 identical answers), t = 0.6: L = 3I - J, rho's eigenvalues (1 + 2r)/3, (1 - r)/3 twice with
# r = (1 - e) / (1 + 2e), e = exp(-3t)
_E = math.exp(-1.8)
_R = (1 - _E) / (1 + 2 * _E)
KLE_IDENTICAL = -sum(x * math.log(x) for x in ((1 + 2 * _R) / 3, (1 - _R) / 3, (1 - _R) / 3))
LN10 = math.log(10)  # the answer's surprisal: p = 0.5 * 0.25 * 0.8 = 0.1

# method -> [(evidence factory, value, normalized)]
HAND = {
    "sequence_probability": [(answer_evidence, 0.1, 0.1)],
    "mean_token_probability": [(answer_evidence, 1.55 / 3, 1.55 / 3)],
    "geometric_mean_probability": [(answer_evidence, 0.1 ** (1 / 3), 0.1 ** (1 / 3))],
    "mean_kurtosis": [(answer_evidence, 1 / 3, (1 / 3) / MAX_KURTOSIS_V10)],
    "mean_token_entropy": [(answer_evidence, 0.4, 0.4 / math.log(10))],
    "max_token_entropy": [(answer_evidence, 0.7, 0.7 / math.log(10))],
    "perplexity": [(answer_evidence, 10 ** (1 / 3), 1 - 0.1 ** (1 / 3))],
    "length_normalized_log_likelihood": [(answer_evidence, math.log(0.1) / 3, 0.1 ** (1 / 3))],
    "token_sar": [(answer_evidence, TOKEN_SAR, 1 - math.exp(-TOKEN_SAR))],
    "predictive_entropy": [(identical_samples, math.log(4), 0.5), (unrelated_samples, 2 * LN2, 0.75)],
    "semantic_entropy": [(identical_samples, 0.0, 0.0),
                         (unrelated_samples, SE_UNRELATED, SE_UNRELATED / math.log(3))],
    "lexical_similarity": [(identical_samples, 1.0, 1.0), (unrelated_samples, 0.0, 0.0)],
    "num_semantic_sets": [(identical_samples, 1.0, 0.0), (unrelated_samples, 3.0, 1.0)],
    "eigv": [(identical_samples, 1.0, 0.0), (unrelated_samples, 3.0, 1.0)],
    "degree": [(identical_samples, 0.0, 0.0), (unrelated_samples, 2 / 3, 1.0)],
    "eccentricity": [(identical_samples, 0.0, 0.0), (unrelated_samples, math.sqrt(2), 1.0)],
    "kle": [(identical_samples, KLE_IDENTICAL, KLE_IDENTICAL / math.log(3)),
            (unrelated_samples, math.log(3), 1.0)],
    "semantic_volume": [(identical_samples, VOLUME_IDENTICAL, math.exp(VOLUME_IDENTICAL / 3) / (1 + EPS)),
                        (unrelated_samples, 3 * math.log(1 + EPS), 1.0)],
    # identical: p = 1/4 each, all similar: -ln(1/4 + (1/4 + 1/4) / 0.001); unrelated: mean surprisal 2 ln 2
    "sentence_sar": [(identical_samples, -math.log(500.25), logistic(-math.log(500.25))),
                     (unrelated_samples, 2 * LN2, logistic(2 * LN2))],
    # identical: relevances 0.1, 0.3 -> TokenSAR = ln 2, p' = 1/2 -> -ln(1/2 + 1 / 0.001); unrelated as above
    "sar": [(identical_samples, -math.log(1000.5), logistic(-math.log(1000.5))),
            (unrelated_samples, 2 * LN2, logistic(2 * LN2))],
    "cocoa": [(identical_samples, 0.0, 0.0), (unrelated_samples, LN10, 0.9),
              (half_agreeing_samples, LN10 / 2, 1 - 10 ** -0.5)],
    # two claims over tokens 0-1 and 2: token CCPs (0.5 + 0.1) / 0.85, 1 (its alternative neutral), 0.8 / 0.9
    "ccp": [(claim_evidence, (12 / 17) * (8 / 9), (12 / 17) * (8 / 9))],
    "luq": [(identical_samples, 0.0, 0.0), (unrelated_samples, 1.0, 1.0), (half_supported, 0.5, 0.5)],
    "verbalized_confidence": [(answer_evidence, 0.8, 0.8)],
    "p_true": [(answer_evidence, 0.75, 0.75)],
    **ATTENTION_HAND,
    **PERTURBATION_HAND,
}


def test_every_registered_method_has_hand_values():
    assert set(METHODS.available()) == set(HAND)


@pytest.mark.parametrize("name, case", [(n, i) for n, cases in HAND.items() for i in range(len(cases))])
def test_method_matches_hand_value(name, case):
    factory, value, normalized = HAND[name][case]
    result = run_method(METHODS.get(name), factory(), {})
    assert "error" not in result.details, result.details
    assert result.value == pytest.approx(value, rel=1e-9, abs=1e-12)
    assert result.normalized == pytest.approx(normalized, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("name", METHODS.available())
def test_metadata_is_complete_and_consistent(name):
    spec = METHODS.get(name)
    info = spec.info()
    assert info.name == name and info.label and info.description.endswith(".")
    assert info.paper and info.value_range and info.normalization and info.cost
    assert info.higher_is in {"uncertain", "confident"}
    assert set(spec.needs) <= set(EVIDENCE)
    for parameter in info.parameters:
        assert parameter.kind in ("float", "int") and parameter.minimum <= parameter.default <= parameter.maximum
        assert parameter.description == parameter.help


def test_the_wire_view_keeps_every_key_and_value_of_the_old_shape():
    method_keys = {"name", "label", "group", "description", "paper", "higher_is", "value_range", "normalization",
                   "cost", "needs", "parameters"}
    added = {"requires", "exact_requires", "on_by_default"}  # additive: what a method needs, whether it starts on
    shown = {m.name: m.info().model_dump(mode="json") for m in METHODS}
    assert all(set(view) == method_keys | added for view in shown.values())
    t = shown["sar"]["parameters"][0]
    assert {key: t[key] for key in ("name", "label", "default", "minimum", "maximum", "kind")} == {
        "name": "t", "label": "SAR temperature t", "default": 0.001, "minimum": 1e-6, "maximum": 1.0, "kind": "float"}
    assert t["description"] == t["help"] == ("divides the other answers' relevance; smaller t lets agreement count "
                                             "for more")
    assert [p["name"] for view in shown.values() for p in view["parameters"]] == ["eigenvalue_threshold", "t",
                                                                                  "epsilon", "t", "t", "alpha",
                                                                                  "answer_tokens", "threshold"]


@pytest.mark.parametrize("name", [n for n in method_names("generation") if METHODS.get(n).token_value])
def test_token_values_equal_the_methods_raw_values(name):
    evidence = answer_evidence()
    token_value = METHODS.get(name).token_value(evidence.logprobs, evidence.entropies)
    assert token_value == pytest.approx(run_method(METHODS.get(name), evidence, {}).value, rel=1e-12)


def test_the_token_level_generation_methods_carry_a_token_value():
    with_token_value = [n for n in method_names() if METHODS.get(n).token_value]
    assert with_token_value == ["sequence_probability", "mean_token_probability", "geometric_mean_probability",
                                "mean_token_entropy", "max_token_entropy", "perplexity",
                                "length_normalized_log_likelihood"]


def test_unrelated_answers_are_more_uncertain_than_identical_ones_for_every_meaning_method():
    # predictive entropy reads only probabilities, not meaning: both cases have mean surprisal 2 ln 2;
    # Inv-Entropy reads the perturbed prompts' answers, not the samples alone (its own case: perturbation_cases)
    for name in set(method_names("samples")) - {"predictive_entropy", "inv_entropy"}:
        spec = METHODS.get(name)
        same = run_method(spec, identical_samples(), {}).value
        different = run_method(spec, unrelated_samples(), {}).value
        assert (different > same) if spec.higher_is == "uncertain" else (different < same), name


def test_groups_partition_the_registry():
    groups = [method_names(g) for g in ("generation", "samples", "ask")]
    assert sum(map(len, groups)) == len(method_names()) == len(METHODS) == 28
    assert method_names("ask") == ["verbalized_confidence", "p_true"]


def test_a_failed_reading_is_reported_not_guessed():
    result = run_method(METHODS.get("verbalized_confidence"), answer_evidence(verbalized_reply="sure"), {})
    assert result.value is None and "no number" in result.details["error"]
    result = run_method(METHODS.get("p_true"), answer_evidence(p_true_probs=(0.0, 0.0)), {})
    assert result.value is None and "neither" in result.details["error"]


def test_failed_evidence_gives_no_value():
    evidence = answer_evidence()
    evidence.failures["p_true"] = "no single token for True"
    result = run_method(METHODS.get("p_true"), evidence, {})
    assert result.value is None and result.details["error"] == "no single token for True"


def test_parameters_override_defaults():
    default = run_method(METHODS.get("semantic_volume"), unrelated_samples(), {}).value
    wider = run_method(METHODS.get("semantic_volume"), unrelated_samples(), {"epsilon": 0.5}).value
    assert default == pytest.approx(3 * math.log(1.001)) and wider == pytest.approx(3 * math.log(1.5))


def test_parameters_are_checked_against_their_ranges():
    assert METHODS.get("sar").check({}) == {"t": 0.001}
    assert METHODS.get("eccentricity").check({"eigenvalue_threshold": 1}) == {"eigenvalue_threshold": 1.0}
    with pytest.raises(UserInputError, match="eccentricity: eigenvalue_threshold must be a number from 0.01 to 2"):
        METHODS.get("eccentricity").check({"eigenvalue_threshold": 5.0})
    with pytest.raises(UserInputError, match="sar has no parameter tau; its parameters are t"):
        METHODS.get("sar").check({"tau": 0.1})
    with pytest.raises(UserInputError, match="perplexity has no parameter t; its parameters are none"):
        run_method(METHODS.get("perplexity"), answer_evidence(), {"t": 0.1})


def spec_returning(value: float) -> MethodSpec:
    return MethodSpec("probe", "Probe", "generation", "A probe.", "none", "uncertain", "any", "none", "none",
                      ("generation",), lambda ev, p: MethodResult(value, None, {}))


def test_non_finite_values_become_none_and_value_errors_are_caught():
    assert run_method(spec_returning(math.inf), answer_evidence(), {}).value is None
    assert "not finite" in run_method(spec_returning(math.nan), answer_evidence(), {}).details["error"]

    def refuse(ev, p):
        raise ValueError("an embedding is all zeros")
    spec = MethodSpec("probe", "Probe", "generation", "A probe.", "none", "uncertain", "any", "none", "none",
                      ("generation",), refuse)
    assert run_method(spec, answer_evidence(), {}).details == {"error": "an embedding is all zeros"}


def test_registry_guards():
    registry = default_registry()
    registry.register(spec_returning(1.0))
    with pytest.raises(ValueError, match="already registered"):
        registry.register(spec_returning(2.0))
    registry.register(spec_returning(2.0), overwrite=True)
    assert registry.get("probe").compute(answer_evidence(), {}).value == 2.0
    all_spec = MethodSpec("all", "All", "generation", "x.", "x", "uncertain", "x", "x", "x", (), lambda e, p: None)
    with pytest.raises(ValueError, match="reserved"):
        registry.register(all_spec)
    assert "probe" not in METHODS


def test_an_unknown_method_is_a_user_error_naming_the_choices():
    with pytest.raises(UnknownNameError) as raised:
        METHODS.get("entropyy")
    assert isinstance(raised.value, UserInputError) and raised.value.choices == method_names()
    assert str(raised.value).startswith("unknown method 'entropyy'; use 'all' or some of: sequence_probability, ")


def test_required_evidence_adds_dependencies():
    assert required_evidence({"meaning"}, "embedding") == ["generation", "samples", "sample_embeddings", "meaning"]
    assert required_evidence({"meaning"}, "nli") == ["generation", "samples", "meaning"]
    assert required_evidence(set(), "nli") == ["generation"]


def test_every_method_requires_capabilities_derived_from_its_evidence_alone():
    from backend.models.registry import CAPABILITIES_BY_ENGINE
    from backend.sequence.method_spec import EVIDENCE_REQUIRES, capabilities_for
    vocabulary = {cap for caps in CAPABILITIES_BY_ENGINE.values() for cap in caps}
    assert set(EVIDENCE_REQUIRES) == set(EVIDENCE)  # one row per piece of evidence, no other place
    assert {cap for caps in EVIDENCE_REQUIRES.values() for cap in caps} <= vocabulary
    for name in method_names():
        spec = METHODS.get(name)
        derived = {cap for need in required_evidence(set(spec.needs), "") for cap in EVIDENCE_REQUIRES[need]}
        assert spec.requires and set(spec.requires) == derived, name
        assert spec.info().requires == list(spec.requires) and spec.info().exact_requires == list(spec.exact_requires)
    assert METHODS.get("mean_kurtosis").requires == ("full_distribution", "token_logprobs")
    assert METHODS.get("semantic_entropy").requires == ("token_logprobs",)
    assert capabilities_for(("generation",), given_answer=True) == ("token_logprobs", "score_given_answer")


def test_what_a_served_model_lacks_and_which_values_are_estimates_there():
    from backend.models.registry import CAPABILITIES_BY_ENGINE
    vllm = CAPABILITIES_BY_ENGINE["vllm"]
    assert [n for n in method_names() if METHODS.get(n).missing(vllm)] == ["mean_kurtosis", "rauq", "uqac"]
    assert METHODS.get("mean_kurtosis").missing(vllm) == ("full_distribution",)
    assert not METHODS.get("mean_kurtosis").missing(CAPABILITIES_BY_ENGINE["in-process"])
    estimated = [n for n in method_names() if METHODS.get(n).exact_requires]
    assert estimated == ["mean_token_entropy", "max_token_entropy"]


def test_value_bounds_of_the_entropy_methods_are_their_values_at_each_tokens_bounds():
    from backend.sequence.method_spec import value_bounds
    evidence, bounds = answer_evidence(), [(0.1, 0.3), (0.7, 0.8), (0.2, 1.1)]  # entropies 0.1, 0.7, 0.4 inside
    lower, upper = value_bounds(METHODS.get("mean_token_entropy"), evidence, bounds, {})
    assert (lower.value, upper.value) == pytest.approx((1.0 / 3, 2.2 / 3))
    assert (lower.normalized, upper.normalized) == pytest.approx((1 / 3 / math.log(10), 2.2 / 3 / math.log(10)))
    lower, upper = value_bounds(METHODS.get("max_token_entropy"), evidence, bounds, {})
    assert (lower.value, upper.value) == pytest.approx((0.7, 1.1))
    assert value_bounds(METHODS.get("perplexity"), evidence, bounds, {}) is None


def test_kle_shows_its_kernel_and_spectrum_and_its_time_parameter_counts():
    result = run_method(METHODS.get("kle"), identical_samples(), {})
    kernel = np.array(result.details["kernel"])
    assert kernel.shape == (3, 3) and np.trace(kernel) == pytest.approx(1.0)
    assert kernel[0, 1] == pytest.approx(_R / 3) and result.details["t"] == 0.6
    assert result.details["eigenvalues"] == pytest.approx([(1 + 2 * _R) / 3, (1 - _R) / 3, (1 - _R) / 3])
    assert sum(result.details["terms"]) == pytest.approx(result.value)
    longer = run_method(METHODS.get("kle"), identical_samples(), {"t": 5.0}).value
    assert 0 < longer < result.value  # agreement spreads further: one meaning, less entropy
    with pytest.raises(UserInputError, match="kle: t must be a number from 0.01 to 10"):
        run_method(METHODS.get("kle"), identical_samples(), {"t": 0.0})


def test_cocoa_details_give_its_evidence_and_the_other_confidences():
    details = run_method(METHODS.get("cocoa"), half_agreeing_samples(), {}).details
    assert details["answer_similarity"] == [1.0, 0.5, 0.0] and details["mean_similarity"] == pytest.approx(0.5)
    assert details["uncertainty"] == pytest.approx(LN10) and details["sequence_probability"] == pytest.approx(0.1)
    assert details["variants"] == pytest.approx({"cocoa_msp": LN10 / 2, "cocoa_ppl": LN10 / 3 / 2,
                                                 "cocoa_mte": 0.4 / 2})  # -mean ln p, mean entropy 0.4 nats
    missing = run_method(METHODS.get("cocoa"), replace(unrelated_samples(), answer_similarity=None), {})
    assert missing.value is None and "not compared" in missing.details["error"]
