"""The audit's methods: token methods are sequence registry entries under the audit's names, the text registry
adds the sampling and asking entries, the classifier registry refuses what an image model cannot run, and the
catalog lists every method once with its kind."""
from __future__ import annotations

import math

import numpy as np
import pytest

from backend.audit import methods as am
from backend.errors import UserInputError
from backend.registry import UnknownNameError
from backend.schemas.audit import AuditMethodCatalog
from backend.sequence.methods import METHODS, method_names

LOGPROBS = [math.log(0.5), math.log(0.25), math.log(0.8)]
ENTROPIES = [0.1, 0.7, 0.4]
HAND = {"mean_logprob": math.log(0.1) / 3, "geo_mean_prob": 0.1 ** (1 / 3), "mean_prob": 1.55 / 3,
        "sequence_prob": 0.1, "mean_entropy": 0.4, "max_entropy": 0.7, "perplexity": 10 ** (1 / 3)}


def entropy_of(probs) -> float:
    return -sum(p * math.log(p) for p in probs)


@pytest.mark.parametrize("name", list(am.TOKEN_METHODS))
def test_every_token_method_names_a_generation_entry_and_shows_its_wording(name):
    method = am.resolve_text_methods([name])[0]
    spec = METHODS.get(am.TOKEN_METHODS[name])
    assert spec.name in method_names("generation") and method.method == spec.name
    assert (method.label, method.description, method.paper, method.higher_is) == (
        spec.label, spec.description, spec.paper, spec.higher_is)
    assert method.source == "token" and method.token_score is spec.token_value


@pytest.mark.parametrize("name", sorted(HAND))
def test_token_methods_match_hand_values(name):
    assert am.resolve_text_methods([name])[0].token_score(LOGPROBS, ENTROPIES) == pytest.approx(HAND[name],
                                                                                                rel=1e-12)


def test_only_probability_scores_are_marked_as_probabilities():
    probabilities = [m.name for m in am.text_methods() if m.is_probability]
    assert probabilities == ["geo_mean_prob", "mean_prob", "sequence_prob", "verbalized_confidence", "p_true"]
    assert [m.name for m in am.CLASSIFIER_REGISTRY if m.is_probability] == ["softmax", "mc_dropout_prob",
                                                                            "tta_prob"]


def test_text_methods_are_the_token_methods_then_the_registrys_sampling_and_asking_entries():
    names = am.text_methods().available()
    sequence = [n for n in method_names() if METHODS.get(n).group != "generation"
                or n in am.CLAIM_METHODS + am.ATTENTION_METHODS]
    assert names == list(am.TOKEN_METHODS) + sequence + ["relative_confidence"]
    for method in am.resolve_text_methods(method_names("samples")):
        spec = METHODS.get(method.name)
        assert method.source == "sequence" and (method.label, method.cost) == (spec.label, spec.cost)


def test_a_generation_entry_is_not_an_audit_method_under_its_registry_name():
    with pytest.raises(UnknownNameError, match="unknown audit method 'mean_token_entropy'; use some of: "
                                               "mean_logprob, geo_mean_prob"):
        am.resolve_text_methods(["mean_token_entropy"])


def test_an_unknown_text_method_is_a_user_error_naming_the_choices():
    with pytest.raises(UnknownNameError) as raised:
        am.resolve_text_methods(["mean_logprob", "entropyy"])
    assert isinstance(raised.value, UserInputError)
    assert raised.value.name == "entropyy" and raised.value.choices == am.text_methods().available()


def test_classifier_methods_without_passes_refuse_the_pass_methods():
    assert [m.name for m in am.resolve_classifier_methods(["margin", "softmax"])] == ["margin", "softmax"]
    with pytest.raises(UnknownNameError) as raised:
        am.resolve_classifier_methods(["mc_dropout_prob"])
    assert raised.value.choices == ["softmax", "predictive_entropy", "margin"]
    assert "not an image method" in str(raised.value)
    chosen = am.resolve_classifier_methods(["tta_mi", "softmax"], with_passes=True)
    assert [(m.name, m.passes) for m in chosen] == [("tta_mi", "tta"), ("softmax", None)]


def test_the_one_pass_filter_splits_the_classifier_registry():
    assert am.CLASSIFIER_REGISTRY.available(am.one_pass) == ["softmax", "predictive_entropy", "margin"]
    assert [m.name for m in am.CLASSIFIER_REGISTRY if m.passes] == ["mc_dropout_prob", "mc_dropout_mi", "tta_prob",
                                                                     "tta_mi"]


def test_classifier_scores():
    probs = np.array([0.7, 0.2, 0.1])
    scores = {m.name: m.class_score(probs) for m in am.CLASSIFIER_REGISTRY.entries(am.one_pass)}
    entropy = entropy_of(probs)
    assert scores == pytest.approx({"softmax": 0.7, "predictive_entropy": entropy, "margin": 0.5})
    passes = np.array([[0.9, 0.1], [0.5, 0.5]])
    assert am.mean_prob_of(passes, 0) == pytest.approx(0.7)
    assert am.mutual_information(passes, 0) == pytest.approx(entropy_of([0.7, 0.3]) - (
        entropy_of([0.9, 0.1]) + entropy_of([0.5, 0.5])) / 2)


def test_the_catalog_lists_every_method_once_by_kind():
    catalog = am.audit_method_catalog()
    assert isinstance(catalog, AuditMethodCatalog)
    assert catalog.names("text") == am.text_methods().available()
    assert catalog.names("classifier") == ["softmax", "predictive_entropy", "margin"]
    assert catalog.names("image") == ["mc_dropout_prob", "mc_dropout_mi", "tta_prob", "tta_mi"]
    assert catalog.names() == catalog.names("text") + catalog.names("classifier", "image")
    assert catalog.defaults("text") == ["mean_logprob", "geo_mean_prob", "max_entropy"]
    assert catalog.defaults("classifier", "image") == ["softmax", "predictive_entropy", "margin"]


def test_catalog_entries_carry_the_registry_metadata():
    by_kind_and_name = {(m.kind, m.name): m for m in am.audit_method_catalog().methods}
    geo = by_kind_and_name["text", "geo_mean_prob"]
    spec = METHODS.get("geometric_mean_probability")
    assert (geo.label, geo.paper, geo.sequence_method, geo.is_probability) == (spec.label, spec.paper, spec.name,
                                                                               True)
    entropy = by_kind_and_name["text", "predictive_entropy"]
    assert entropy.sequence_method == "predictive_entropy" and entropy.source == "sequence" and not entropy.default
    softmax = by_kind_and_name["classifier", "softmax"]
    assert softmax.paper == am.HENDRYCKS and softmax.sequence_method is None and softmax.default
    assert set(softmax.model_dump()) == {"name", "label", "description", "paper", "higher_is", "is_probability",
                                         "source", "cost", "kind", "default", "sequence_method", "requires"}
    assert softmax.requires == [] and geo.requires == ["token_logprobs"]
    assert entropy.requires == ["token_logprobs", "score_given_answer"]  # it scores the audit's answer, given


def test_a_given_column_is_a_probability_only_when_it_is_a_confidence_in_0_1():
    assert am.given_method("p", "confident", [0.2, 1.0]).is_probability
    assert not am.given_method("p", "confident", [0.2, 1.5]).is_probability
    assert not am.given_method("h", "uncertain", [0.2]).is_probability
