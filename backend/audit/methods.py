"""The confidence methods an audit can use: the sequence registry's methods for questions, classifier scores for
images.

A text audit's token methods (mean_logprob, geo_mean_prob, ...) are the sequence registry's generation entries
(backend.sequence.methods) under the names audits have always used: their label, description, paper, direction
and value come from the entry, scored on the batched answers' own logits. Its other methods are the registry's
sampling and asking entries under their own names, then relative confidence (questions compared in pairs and
ranked; backend.decisions.relative_confidence). Classifier methods score an image's class probabilities; the pass
methods score K dropout or augmented passes.

Each entry says which way its score points and whether the score is itself a probability of being right. Only
probability scores enter ECE / Brier / NLL directly; the others are judged by ranking (AUROC, AURC, PRR) and mapped
to probabilities by Platt scaling for the calibration numbers (see backend.audit.summary).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal, Optional, Sequence

import numpy as np

from backend.decisions import relative_confidence as rel
from backend.registry import Registry, UnknownNameError
from backend.schemas.audit import AuditCatalogEntry, AuditMethodCatalog, AuditMethodInfo, AuditMethodKind
from backend.schemas.sequence import why_not
from backend.sequence.attention_methods import ATTENTION_METHODS
from backend.sequence.method_spec import TokenValue, capabilities_for
from backend.sequence.methods import METHODS

HENDRYCKS = "Hendrycks & Gimpel, A Baseline for Detecting Misclassified and Out-of-Distribution Examples (ICLR 2017)"
GAL = "Gal & Ghahramani, Dropout as a Bayesian Approximation (ICML 2016)"
AYHAN = ("Ayhan & Berens, Test-time Data Augmentation for Estimation of Heteroscedastic Aleatoric Uncertainty "
         "(MIDL 2018)")
HOULSBY = "Houlsby et al., Bayesian Active Learning for Classification and Preference Learning (2011)"
K_PASSES = "K forward passes per image (K = the audit's samples), batched"
IMAGE_HINT = "not an image method; use some of"
ONE_PASS = "one batched generate call (its own logits; no scoring pass), shared by all token-level methods"
TOKEN_METHODS: dict[str, str] = {
    "mean_logprob": "length_normalized_log_likelihood",
    "geo_mean_prob": "geometric_mean_probability",
    "mean_prob": "mean_token_probability",
    "sequence_prob": "sequence_probability",
    "mean_entropy": "mean_token_entropy",
    "max_entropy": "max_token_entropy",
    "perplexity": "perplexity",
}
"""Audit name -> the sequence registry's generation entry it scores, in the order the audit lists them."""
PROBABILITY_METHODS = frozenset({"sequence_probability", "mean_token_probability", "geometric_mean_probability",
                                 "p_true", "verbalized_confidence"})
"""Sequence registry entries whose value is meant as the probability that the answer is right."""
DEFAULT_TEXT_METHODS = ("mean_logprob", "geo_mean_prob", "max_entropy")
CLAIM_METHODS = ("ccp",)  # generation entries an audit runs by a sequence analysis (they need a meaning model)
"""Selected unless changed for questions; for images, every one-pass classifier method is."""
Source = Literal["token", "sequence", "classifier", "given", "pairwise"]


@dataclass(frozen=True)
class AuditMethod:
    """One entry: metadata plus, for token and classifier methods, how to compute the score. method: the sequence
    registry entry a token or sequence method is; requires: the text-model capabilities it needs
    (ModelInfo.capabilities), empty for methods of other data."""

    name: str
    label: str
    description: str
    paper: str
    higher_is: Literal["uncertain", "confident"]
    is_probability: bool
    source: Source
    cost: str
    token_score: Optional[TokenValue] = None
    class_score: Optional[Callable[[np.ndarray], float]] = None
    passes: Optional[str] = None
    pass_score: Optional[Callable[[np.ndarray, int], float]] = None
    method: Optional[str] = None
    requires: tuple[str, ...] = ()

    def info(self) -> AuditMethodInfo:
        return AuditMethodInfo(name=self.name, label=self.label, description=self.description, paper=self.paper,
                               higher_is=self.higher_is, is_probability=self.is_probability, source=self.source,
                               cost=self.cost)


def _entropy(probs: np.ndarray) -> float:
    p = probs[probs > 0]
    return float(-(p * np.log(p)).sum())


def _margin(probs: np.ndarray) -> float:
    top = np.sort(probs)[::-1]
    return float(top[0] - (top[1] if len(top) > 1 else 0.0))


def mean_prob_of(passes: np.ndarray, predicted: int) -> float:
    """Mean over K passes (K, C) of the probability of the single eval-mode pass's predicted class."""
    return float(passes[:, predicted].mean())


def mutual_information(passes: np.ndarray, _predicted: int) -> float:
    """H[mean_k p_k] - mean_k H[p_k] over K passes (K, C), in nats, >= 0 (the epistemic part of the entropy)."""
    return max(_entropy(passes.mean(axis=0)) - float(np.mean([_entropy(p) for p in passes])), 0.0)


def token_method(name: str, method: str) -> AuditMethod:
    """An audit entry that scores the batched answers' tokens with a generation entry's token_value."""
    spec = METHODS.get(method)
    if spec.token_value is None:
        raise ValueError(f"sequence method {method!r} needs more than the answer's tokens")
    return AuditMethod(name, spec.label, spec.description, spec.paper, spec.higher_is, method in PROBABILITY_METHODS,
                       "token", ONE_PASS, token_score=spec.token_value, method=method, requires=spec.requires)


def sequence_method(name: str) -> AuditMethod:
    """An audit entry for a method of the sequence registry (backend.sequence.methods), its raw value. It runs on
    the audit's greedy answer given as the answer, so it also requires scoring a given answer."""
    spec = METHODS.get(name)
    return AuditMethod(spec.name, spec.label, spec.description, spec.paper, spec.higher_is,
                       spec.name in PROBABILITY_METHODS, "sequence", spec.cost, method=spec.name,
                       requires=capabilities_for(spec.needs, given_answer=True))


def cannot_run(method: AuditMethod, capabilities: Sequence[str]) -> str:
    """Why a text model with these capabilities cannot give the method, in words (schemas.sequence.why_not), or
    '' when it can."""
    return why_not(method.requires, capabilities)


def relative_method() -> AuditMethod:
    """Relative confidence (backend.decisions.relative_confidence): the question compared with m seeded partner
    questions, each pair in both orders, ranked by a Bradley-Terry fit over every comparison of the audit when it is
    summarised. It reads the first reply token's probabilities, as P(True) does, so it requires what P(True) does."""
    pairs = rel.rounds_for(rel.COMPARISONS)
    return AuditMethod(rel.METHOD, "Relative confidence", (
        f"Which of two questions the model is more sure it can answer: each question is compared with {pairs} "
        f"seeded partner questions (both orders, so about {rel.COMPARISONS} comparisons each), P(A) / (P(A) + P(B)) "
        f"read from the first reply token, and all comparisons ranked by a Bradley-Terry fit (logits: higher = more "
        f"confident; not a probability)."), rel.PAPER, "confident", False, "pairwise",
        f"{rel.ORDERS * pairs} asking passes per question (one reply token each), before the audit's ranking fit",
        requires=capabilities_for(("p_true",)))


def given_method(name: str, higher_is: str, values: Sequence[float]) -> AuditMethod:
    """An entry for a precomputed CSV column; a probability when it is a confidence with every value in [0, 1]."""
    is_probability = higher_is == "confident" and all(0.0 <= v <= 1.0 for v in values)
    return AuditMethod(name, name, "precomputed score from the uploaded file", "(given)", higher_is,  # type: ignore
                       is_probability, "given", "none: no model run")


def text_methods() -> Registry[AuditMethod]:
    """Every method a text audit accepts: the token methods first, then the sequence registry's sampling and
    asking entries and its claim-level ccp (read from the registry on each call, so later registrations count)."""
    registry: Registry[AuditMethod] = Registry("audit method", hint="use some of")
    for name, method in TOKEN_METHODS.items():
        registry.register(token_method(name, method))
    for spec in METHODS.entries(keep=lambda spec: spec.group != "generation"
                                   or spec.name in CLAIM_METHODS + ATTENTION_METHODS):
        registry.register(sequence_method(spec.name))
    registry.register(relative_method())
    return registry


def resolve_text_methods(names: Sequence[str]) -> list[AuditMethod]:
    """The entries for the names, or UnknownNameError listing what is available."""
    registry = text_methods()
    return [registry.get(name) for name in names]


def default_classifier_methods() -> Registry[AuditMethod]:
    """The image methods: one-pass scores of the class probabilities, then the K-pass ones (entries with passes)."""
    registry: Registry[AuditMethod] = Registry("method", hint=IMAGE_HINT)
    for method in (
        AuditMethod("softmax", "Max softmax probability", "Probability of the predicted class.", HENDRYCKS,
                    "confident", True, "classifier", "one forward pass", class_score=lambda p: float(np.max(p))),
        AuditMethod("predictive_entropy", "Predictive entropy", "Entropy (nats) of the class distribution.",
                    HENDRYCKS, "uncertain", False, "classifier", "one forward pass", class_score=_entropy),
        AuditMethod("margin", "Top-2 margin", "p(top-1) - p(top-2).", HENDRYCKS, "confident", False, "classifier",
                    "one forward pass", class_score=_margin),
        AuditMethod("mc_dropout_prob", "MC dropout probability", "Mean over K dropout passes of the probability of "
                    "the predicted class (dropout on the pooled features, as on the Image page).", GAL, "confident",
                    True, "classifier", K_PASSES, passes="mc_dropout", pass_score=mean_prob_of),
        AuditMethod("mc_dropout_mi", "MC dropout mutual information", "Disagreement of K dropout passes: predictive "
                    "entropy minus expected entropy (nats), the model's epistemic uncertainty.", HOULSBY, "uncertain",
                    False, "classifier", K_PASSES, passes="mc_dropout", pass_score=mutual_information),
        AuditMethod("tta_prob", "Test-time augmentation probability", "Mean over K augmented copies (crop position, "
                    "flip, brightness, contrast) of the probability of the predicted class.", AYHAN, "confident",
                    True, "classifier", K_PASSES, passes="tta", pass_score=mean_prob_of),
        AuditMethod("tta_mi", "Test-time augmentation mutual information", "Disagreement of K augmented copies: "
                    "predictive entropy minus expected entropy (nats).", AYHAN, "uncertain", False, "classifier",
                    K_PASSES, passes="tta", pass_score=mutual_information),
    ):
        registry.register(method)
    return registry


def one_pass(method: AuditMethod) -> bool:
    """A registry filter: whether a classifier method needs only the one eval-mode pass (no dropout or TTA)."""
    return method.passes is None


CLASSIFIER_REGISTRY = default_classifier_methods()


def resolve_classifier_methods(names: Sequence[str], *, with_passes: bool = False) -> list[AuditMethod]:
    """Classifier entries for the names (with_passes: also MC dropout and test-time augmentation, for registered
    image models); another name is refused (UnknownNameError) with the list of those allowed."""
    allowed = CLASSIFIER_REGISTRY.available(None if with_passes else one_pass)
    for name in names:
        if name not in allowed:
            raise UnknownNameError(CLASSIFIER_REGISTRY.noun, name, allowed, IMAGE_HINT)
    return [CLASSIFIER_REGISTRY.get(name) for name in names]


def compares_pairs(methods: Sequence[AuditMethod]) -> bool:
    """Whether the audit asks for relative confidence: each item keeps its pairwise comparisons, and the items are
    ranked together when the audit is summarised."""
    return any(method.source == "pairwise" for method in methods)


def kind_of(method: AuditMethod) -> AuditMethodKind:
    """text: question audits; classifier: one pass (digits and image models); image: K passes (image models)."""
    if method.source in ("token", "sequence", "pairwise"):
        return "text"
    return "classifier" if one_pass(method) else "image"


def catalog_entry(method: AuditMethod) -> AuditCatalogEntry:
    """The method's public view with its kind and whether it is selected unless changed."""
    kind = kind_of(method)
    default = method.name in DEFAULT_TEXT_METHODS if kind == "text" else kind == "classifier"
    return AuditCatalogEntry(**method.info().model_dump(), kind=kind, default=default, sequence_method=method.method,
                             requires=list(method.requires))


def audit_method_catalog() -> AuditMethodCatalog:
    """Every method an audit can use: text methods first, then the classifier and image-pass methods."""
    methods = text_methods().entries() + CLASSIFIER_REGISTRY.entries()
    return AuditMethodCatalog(methods=[catalog_entry(method) for method in methods])
