"""The confidence methods an audit can use: token-level summaries, the sequence-method registry, classifier scores.

Each entry says which way its score points and whether the score is itself a probability of being right. Only
probability scores enter ECE / Brier / NLL directly; the others are judged by ranking (AUROC, AURC, PRR) and mapped
to probabilities by Platt scaling for the calibration numbers (see backend.audit.summary).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Literal, Optional, Sequence

import numpy as np

from backend.sequence.methods import METHODS
from backend.analyses.sequence_summary import summarize
from backend.errors import UserInputError
from backend.schemas.audit import AuditMethodInfo

MALININ = "Malinin & Gales, Uncertainty Estimation in Autoregressive Structured Prediction (ICLR 2021)"
FOMICHEVA = "Fomicheva et al., Unsupervised Quality Estimation for Neural Machine Translation (TACL 2020)"
HENDRYCKS = "Hendrycks & Gimpel, A Baseline for Detecting Misclassified and Out-of-Distribution Examples (ICLR 2017)"
GAL = "Gal & Ghahramani, Dropout as a Bayesian Approximation (ICML 2016)"
AYHAN = ("Ayhan & Berens, Test-time Data Augmentation for Estimation of Heteroscedastic Aleatoric Uncertainty "
         "(MIDL 2018)")
HOULSBY = "Houlsby et al., Bayesian Active Learning for Classification and Preference Learning (2011)"
K_PASSES = "K forward passes per image (K = the audit's samples), batched"
ONE_PASS = "one batched generate call (its own logits; no scoring pass), shared by all token-level methods"
PROBABILITY_SEQUENCE_METHODS = {"p_true", "verbalized_confidence"}
Source = Literal["token", "sequence", "classifier", "given"]


@dataclass(frozen=True)
class AuditMethod:
    """One registry entry: metadata plus, for token and classifier methods, how to compute the score."""

    name: str
    label: str
    description: str
    paper: str
    higher_is: Literal["uncertain", "confident"]
    is_probability: bool
    source: Source
    cost: str
    token_score: Optional[Callable[[Sequence[float], Sequence[float]], float]] = None
    class_score: Optional[Callable[[np.ndarray], float]] = None
    passes: Optional[str] = None
    pass_score: Optional[Callable[[np.ndarray, int], float]] = None

    def info(self) -> AuditMethodInfo:
        return AuditMethodInfo(name=self.name, label=self.label, description=self.description, paper=self.paper,
                               higher_is=self.higher_is, is_probability=self.is_probability, source=self.source,
                               cost=self.cost)


def _summary(name: str) -> Callable[[Sequence[float], Sequence[float]], float]:
    return lambda logprobs, entropies: summarize(logprobs, entropies)[name]


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


TOKEN_METHODS = [
    AuditMethod("mean_logprob", "Mean token log-probability", "Length-normalised log-likelihood of the answer "
                "(nats per token).", MALININ, "confident", False, "token", ONE_PASS,
                token_score=lambda lp, ent: sum(lp) / len(lp)),
    AuditMethod("geo_mean_prob", "Geometric-mean token probability", "exp of the mean token log-probability.",
                FOMICHEVA, "confident", True, "token", ONE_PASS, token_score=_summary("geo_mean_prob")),
    AuditMethod("mean_prob", "Mean token probability", "Arithmetic mean of the answer's token probabilities.",
                FOMICHEVA, "confident", True, "token", ONE_PASS, token_score=_summary("mean_prob")),
    AuditMethod("sequence_prob", "Sequence probability", "Probability of the whole answer (product over tokens).",
                MALININ, "confident", True, "token", ONE_PASS, token_score=lambda lp, ent: math.exp(sum(lp))),
    AuditMethod("mean_entropy", "Mean token entropy", "Mean entropy (nats) of the next-token distributions.",
                FOMICHEVA, "uncertain", False, "token", ONE_PASS, token_score=_summary("mean_entropy")),
    AuditMethod("max_entropy", "Max token entropy", "Largest token entropy (nats) in the answer.", FOMICHEVA,
                "uncertain", False, "token", ONE_PASS, token_score=_summary("max_entropy")),
    AuditMethod("perplexity", "Perplexity", "exp of the mean surprisal; 1 = every token certain.", MALININ,
                "uncertain", False, "token", ONE_PASS, token_score=_summary("perplexity")),
]
CLASSIFIER_METHODS = [
    AuditMethod("softmax", "Max softmax probability", "Probability of the predicted class.", HENDRYCKS, "confident",
                True, "classifier", "one forward pass", class_score=lambda p: float(np.max(p))),
    AuditMethod("predictive_entropy", "Predictive entropy", "Entropy (nats) of the class distribution.", HENDRYCKS,
                "uncertain", False, "classifier", "one forward pass", class_score=_entropy),
    AuditMethod("margin", "Top-2 margin", "p(top-1) - p(top-2).", HENDRYCKS, "confident", False, "classifier",
                "one forward pass", class_score=_margin),
]


IMAGE_PASS_METHODS = [
    AuditMethod("mc_dropout_prob", "MC dropout probability", "Mean over K dropout passes of the probability of the "
                "predicted class (dropout on the pooled features, as on the Image page).", GAL, "confident", True,
                "classifier", K_PASSES, passes="mc_dropout", pass_score=mean_prob_of),
    AuditMethod("mc_dropout_mi", "MC dropout mutual information", "Disagreement of K dropout passes: predictive "
                "entropy minus expected entropy (nats), the model's epistemic uncertainty.", HOULSBY, "uncertain",
                False, "classifier", K_PASSES, passes="mc_dropout", pass_score=mutual_information),
    AuditMethod("tta_prob", "Test-time augmentation probability", "Mean over K augmented copies (crop position, "
                "flip, brightness, contrast) of the probability of the predicted class.", AYHAN, "confident", True,
                "classifier", K_PASSES, passes="tta", pass_score=mean_prob_of),
    AuditMethod("tta_mi", "Test-time augmentation mutual information", "Disagreement of K augmented copies: "
                "predictive entropy minus expected entropy (nats).", AYHAN, "uncertain", False, "classifier",
                K_PASSES, passes="tta", pass_score=mutual_information),
]


def sequence_method(name: str) -> AuditMethod:
    """An audit entry for a method of the sequence registry (backend.sequence.methods), its raw value."""
    spec = METHODS.get(name)
    return AuditMethod(spec.name, spec.label, spec.description, spec.paper, spec.higher_is,
                       spec.name in PROBABILITY_SEQUENCE_METHODS, "sequence", spec.cost)


def given_method(name: str, higher_is: str, values: Sequence[float]) -> AuditMethod:
    """An entry for a precomputed CSV column; a probability when it is a confidence with every value in [0, 1]."""
    is_probability = higher_is == "confident" and all(0.0 <= v <= 1.0 for v in values)
    return AuditMethod(name, name, "precomputed score from the uploaded file", "(given)", higher_is,  # type: ignore
                       is_probability, "given", "none: no model run")


def text_method_names() -> list[str]:
    """Every method a text audit accepts: token-level first, then the sequence registry's non-generation ones."""
    token = [m.name for m in TOKEN_METHODS]
    return token + [n for n in METHODS.available() if METHODS.get(n).group != "generation"]


def resolve_text_methods(names: Sequence[str]) -> list[AuditMethod]:
    """The entries for the names, or UserInputError listing what is available."""
    by_name = {m.name: m for m in TOKEN_METHODS}
    chosen = []
    for name in names:
        if name in by_name:
            chosen.append(by_name[name])
        elif name in METHODS.available() and METHODS.get(name).group != "generation":
            chosen.append(sequence_method(name))
        else:
            raise UserInputError(f"unknown audit method {name!r}; use some of: {', '.join(text_method_names())}")
    return chosen


def resolve_classifier_methods(names: Sequence[str], *, with_passes: bool = False) -> list[AuditMethod]:
    """Classifier entries for the names (with_passes: also MC dropout and test-time augmentation, for registered
    image models); other names are refused with the list of image methods."""
    by_name = {m.name: m for m in CLASSIFIER_METHODS + (IMAGE_PASS_METHODS if with_passes else [])}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise UserInputError(f"{', '.join(unknown)}: not an image method; use some of: {', '.join(by_name)}")
    return [by_name[n] for n in names]
