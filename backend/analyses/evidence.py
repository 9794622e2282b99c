"""What sequence methods are computed from, and what each piece costs in forward passes.

Several methods share one piece of evidence (all sample-based methods share the K samples), so costs are counted
per piece of evidence, once, whatever the number of methods that use it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np

from backend.analyses.meaning_graph import check_affinity

VERBALIZED_MAX_NEW_TOKENS = 8
PERTURBED_PROMPTS = 4  # Inv-Entropy: rewordings of the question, each answered K times
PERTURBATION_CANDIDATES = 15  # at most this many rewordings are embedded to choose them from


@dataclass
class Evidence:
    """Inputs of the methods; a field is filled only when a selected method needs it.

    Per-token lists describe the analysed answer (T tokens, end token included); per-sample lists the K sampled
    answers. Log-probabilities in nats. prompts: evidence name -> the exact text the model was asked;
    failures: evidence name -> why it could not be gathered.
    """

    logprobs: list[float]
    entropies: list[float]
    special: list[bool]
    vocab_size: int
    kurtosis: Optional[list[float]] = None
    token_similarity: Optional[list[float]] = None
    sample_token_logprobs: Optional[list[list[float]]] = None
    sample_texts: Optional[list[str]] = None
    sample_special: Optional[list[list[bool]]] = None
    clusters: Optional[list[list[int]]] = None
    affinity: Optional[np.ndarray] = None
    sample_embeddings: Optional[np.ndarray] = None
    sample_similarity: Optional[np.ndarray] = None  # (K, K) cosine affinity of sample_embeddings, gathered with them
    sample_token_similarity: Optional[list[list[float]]] = None
    answer_similarity: Optional[list[float]] = None
    verbalized_reply: Optional[str] = None
    p_true_probs: Optional[tuple[float, float]] = None
    attention: Optional[Any] = None  # backend.analyses.attention_uq.AttentionEvidence (RAUQ, UQAC)
    claims: Optional[list] = None  # backend.claims.split.ClaimSpan, with token spans
    claim_alternatives: Optional[list] = None  # per answer token: None, or [(prob, class)], the chosen token first
    claim_support: Optional[np.ndarray] = None  # (claims, K) support of each claim by each sample, in [0, 1]
    perturbation: Optional[Any] = None  # backend.sequence.perturbation.PerturbationEvidence (Inv-Entropy)
    prompts: dict[str, str] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    _affinity_checked: tuple[Any, Optional[np.ndarray]] = field(default=(None, None), init=False, repr=False,
                                                                 compare=False)
    _sample_sums: tuple[Any, Optional[list[float]], Optional[list[float]]] = field(
        default=(None, None, None), init=False, repr=False, compare=False)

    def checked_affinity(self) -> np.ndarray:
        """The affinity as meaning_graph.check_affinity returns it, checked once while the field holds the same
        array (the methods that read it share one check)."""
        source, checked = self._affinity_checked
        if checked is None or source is not self.affinity:
            checked = check_affinity(self.affinity)
            self._affinity_checked = (self.affinity, checked)
        return checked

    @property
    def sample_logprobs(self) -> list[float]:
        """Total log-probability of each sample (K,)."""
        return self.sample_totals_and_means()[0]

    @property
    def sample_mean_logprobs(self) -> list[float]:
        """Mean token log-probability of each sample (K,); an empty sample counts as certain (0)."""
        return self.sample_totals_and_means()[1]

    def sample_totals_and_means(self) -> tuple[list[float], list[float]]:
        """(sample_logprobs, sample_mean_logprobs): each sample summed once while sample_token_logprobs holds the
        same list (the methods that read them share the sums; copies, so a caller cannot change them)."""
        source, totals, means = self._sample_sums
        if source is not self.sample_token_logprobs or totals is None:
            lists = self.sample_token_logprobs or []
            totals = list(map(sum, lists))
            means = [total / len(lps) if lps else 0.0 for total, lps in zip(totals, lists)]
            self._sample_sums = (self.sample_token_logprobs, totals, means)
        return list(totals), list(means)


@dataclass(frozen=True)
class PassCount:
    """Forward passes of each model kind: LM passes (each over lm_batch sequences), embedded texts, NLI pairs."""

    lm_passes: int = 0
    lm_batch: int = 1
    embedding_texts: int = 0
    nli_pairs: int = 0


@dataclass(frozen=True)
class EvidenceSpec:
    """A piece of evidence: its label and its cost for K samples, T being the analysed answer's length in tokens,
    or, for evidence made of sampled answers (per_sample), the samples' maximum length."""

    name: str
    label: str
    passes: Callable[[int, int, str], PassCount]
    per_sample: bool = False


def _meaning_passes(k: int, t: int, kind: str) -> PassCount:
    """NLI scores both directions of every pair of answers (at most K(K-1): repeated answers are asked once);
    embeddings reuse the sample embeddings."""
    return PassCount(nli_pairs=k * (k - 1)) if kind == "nli" else PassCount()


def _answer_meaning_passes(k: int, t: int, kind: str) -> PassCount:
    """NLI scores the answer against each sample both ways (at most 2K pairs); embeddings embed the answer and the
    K samples with the question's words removed (K + 1 texts)."""
    return PassCount(nli_pairs=2 * k) if kind == "nli" else PassCount(embedding_texts=k + 1)


def _claim_alternatives_passes(k: int, t: int, kind: str) -> PassCount:
    """At most T tokens with CLAIM_TOP_K - 1 alternatives each: NLI both ways per alternative, or the claim prefix
    embedded with each alternative and with the chosen token."""
    alternatives = t * (CLAIM_TOP_K - 1)
    return PassCount(nli_pairs=2 * alternatives) if kind == "nli" else PassCount(embedding_texts=alternatives + t)


def _claim_support_passes(k: int, t: int, kind: str) -> PassCount:
    """Each of at most T/8 claims against each of the K samples: NLI pairs, or the claims and the samples'
    sentences (about as many) embedded."""
    claims = max(1, t // 8)
    return PassCount(nli_pairs=claims * k) if kind == "nli" else PassCount(embedding_texts=claims * (k + 1))


def _perturbation_passes(k: int, t: int, kind: str) -> PassCount:
    """One batched generate call of K answers per perturbed prompt (at most T steps each); the candidate
    rewordings and the question embedded to choose them (those embeddings serve the inverse model too), then the
    (P + 1) K answers."""
    return PassCount(lm_passes=PERTURBED_PROMPTS * t, lm_batch=k,
                     embedding_texts=PERTURBATION_CANDIDATES + 1 + (PERTURBED_PROMPTS + 1) * k)


CLAIM_TOP_K = 5  # the Text analysis' default top-k alternatives per token, which CCP reads


EVIDENCE: dict[str, EvidenceSpec] = {
    spec.name: spec for spec in (
        EvidenceSpec("generation", "The analysed answer (its generate call and one scoring pass)",
                     lambda k, t, kind: PassCount(lm_passes=t + 1)),
        EvidenceSpec("kurtosis", "Full next-token distributions again (one scoring pass)",
                     lambda k, t, kind: PassCount(lm_passes=1)),
        EvidenceSpec("token_relevance", "SAR token relevance of the answer (answer with each token removed)",
                     lambda k, t, kind: PassCount(embedding_texts=t + 1)),
        EvidenceSpec("samples", "K sampled answers (one batched generate call)",
                     lambda k, t, kind: PassCount(lm_passes=t, lm_batch=k), per_sample=True),
        EvidenceSpec("sample_embeddings", "Embeddings of the K answers",
                     lambda k, t, kind: PassCount(embedding_texts=k)),
        EvidenceSpec("meaning", "Which answers mean the same (pairwise)", _meaning_passes),
        EvidenceSpec("answer_meaning", "How close the analysed answer's meaning is to each sample's",
                     _answer_meaning_passes),
        EvidenceSpec("sample_token_relevance", "SAR token relevance of every sampled answer",
                     lambda k, t, kind: PassCount(embedding_texts=k * (t + 1)), per_sample=True),
        EvidenceSpec("claims", "The answer split into claims (sentences and clauses; no model)",
                     lambda k, t, kind: PassCount()),
        EvidenceSpec("claim_alternatives", "Whether each claim token's top-k alternatives keep the claim's meaning",
                     _claim_alternatives_passes),
        EvidenceSpec("claim_support", "How strongly each sample supports each claim", _claim_support_passes),
        EvidenceSpec("verbalized", "Asking the model for a confidence number (a short generate call)",
                     lambda k, t, kind: PassCount(lm_passes=VERBALIZED_MAX_NEW_TOKENS)),
        EvidenceSpec("p_true", "Asking the model True or False (one pass)",
                     lambda k, t, kind: PassCount(lm_passes=1)),
        EvidenceSpec("attention", "Attention weights of the answer (one more pass, read in chunks)",
                     lambda k, t, kind: PassCount(lm_passes=1)),
        EvidenceSpec("perturbations", f"The question reworded {PERTURBED_PROMPTS} ways, K answers to each",
                     _perturbation_passes, per_sample=True),
    )
}

CLAIM_EVIDENCE = frozenset({"claim_alternatives", "claim_support"})  # judged by the meaning model: NLI or embeddings
MEANING_EVIDENCE = frozenset({"meaning", *CLAIM_EVIDENCE})  # evidence that needs a meaning source chosen

NEEDS_CLOSURE: dict[str, tuple[str, ...]] = {
    "meaning": ("samples", "sample_embeddings"),
    "sample_embeddings": ("samples",),
    "sample_token_relevance": ("samples",),
    "answer_meaning": ("samples",),
    "claim_alternatives": ("claims",),
    "claim_support": ("samples", "claims"),
    "perturbations": ("samples",),
}
EMBEDDING_EVIDENCE = frozenset({"token_relevance", "sample_embeddings", "sample_token_relevance", "perturbations"})
"""Evidence that needs the embedding model, whatever the meaning source."""


def required_evidence(needs: set[str], meaning_kind: str) -> list[str]:
    """needs plus what they depend on, in the order of EVIDENCE (generation always included).

    Meaning by NLI does not need the sample embeddings; meaning by embeddings does.
    """
    wanted = {"generation", *needs}
    for name in list(wanted):
        for dependency in NEEDS_CLOSURE.get(name, ()):
            if not (name == "meaning" and dependency == "sample_embeddings" and meaning_kind == "nli"):
                wanted.add(dependency)
    return [name for name in EVIDENCE if name in wanted]
