"""The registry of sequence-level uncertainty methods: one entry per method, with the metadata the UI shows.

Adding a method is one compute function, one registry entry and one test. Each entry (a MethodSpec, see
backend.sequence.method_spec) names the paper, the direction (higher = more uncertain, or more confident), the
range, how its normalised value in [0, 1] is made, its cost, the evidence it needs (see backend.analyses.evidence)
and its Parameters. The generation entries whose value needs only the answer's token log-probabilities and
entropies carry `token_value`: the audit's token methods and the Text page's summaries name these entries instead
of describing the metric again.
"""
from __future__ import annotations

import math
from typing import Callable, Mapping, Optional, Sequence

import numpy as np

from backend.analyses import generation_scores as gen
from backend.analyses import kernel_scores as kern
from backend.analyses import meaning_graph as graph
from backend.analyses import sample_scores as samp
from backend.analyses import sar as sar_scores
from backend.analyses.evidence import Evidence
from backend.analyses.rouge import mean_pairwise_rouge_l
from backend.analyses.self_report import p_true_normalized, parse_confidence
from backend.claims.methods import ccp_result, luq_result
from backend.parameters import Parameter
from backend.registry import Registry
from backend.schemas import ALL_METHODS
from backend.sequence.attention_methods import RAUQ, UQAC
from backend.sequence.method_spec import Group, MethodResult, MethodSpec, TokenValue
from backend.sequence.perturbation import INV_ENTROPY


def in_group(group: Group) -> Callable[[MethodSpec], bool]:
    """A registry filter: whether an entry belongs to a group, e.g. `METHODS.available(keep=in_group("ask"))`."""
    return lambda spec: spec.group == group


def method_names(group: Optional[Group] = None) -> list[str]:
    """The registered method names, of one group when given, in registration order."""
    return METHODS.available(None if group is None else in_group(group))


def _of_logprobs(score: Callable[[Sequence[float]], float]) -> TokenValue:
    return lambda logprobs, _entropies: score(logprobs)


def _of_entropies(score: Callable[[Sequence[float]], float]) -> TokenValue:
    return lambda _logprobs, entropies: score(entropies)


def _logistic(x: float) -> float:
    """1 / (1 + e^-x), computed without overflow."""
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def _k(evidence: Evidence) -> int:
    return len(evidence.sample_token_logprobs or [])


def _sequence_probability(ev: Evidence, _: Mapping[str, float]) -> MethodResult:
    value = gen.sequence_probability(ev.logprobs)
    return MethodResult(value, value, {"sequence_logprob": gen.sequence_log_probability(ev.logprobs),
                                       "tokens": len(ev.logprobs)})


def _mean_token_probability(ev: Evidence, _: Mapping[str, float]) -> MethodResult:
    value = gen.mean_token_probability(ev.logprobs)
    return MethodResult(value, value, {"token_probs": [math.exp(lp) for lp in ev.logprobs]})


def _geometric_mean_probability(ev: Evidence, _: Mapping[str, float]) -> MethodResult:
    value = gen.geometric_mean_probability(ev.logprobs)
    return MethodResult(value, value, {"mean_logprob": gen.length_normalized_log_likelihood(ev.logprobs)})


def _mean_kurtosis(ev: Evidence, _: Mapping[str, float]) -> MethodResult:
    per_token = list(ev.kurtosis or [])
    if not per_token:
        raise ValueError("no token distributions to measure")
    value = float(np.mean(per_token))
    top = gen.max_excess_kurtosis(ev.vocab_size)
    return MethodResult(value, value / top, {"per_token": per_token, "max_possible": top,
                                             "vocab_size": ev.vocab_size})


def _mean_token_entropy(ev: Evidence, _: Mapping[str, float]) -> MethodResult:
    value = gen.mean_token_entropy(ev.entropies)
    return MethodResult(value, value / math.log(ev.vocab_size), {"per_token": ev.entropies,
                                                                 "log_vocab_size": math.log(ev.vocab_size)})


def _max_token_entropy(ev: Evidence, _: Mapping[str, float]) -> MethodResult:
    step = int(np.argmax(ev.entropies))
    value = ev.entropies[step]
    return MethodResult(value, value / math.log(ev.vocab_size), {"step": step,
                                                                 "log_vocab_size": math.log(ev.vocab_size)})


def _perplexity(ev: Evidence, _: Mapping[str, float]) -> MethodResult:
    value = gen.perplexity(ev.logprobs)
    return MethodResult(value, 1.0 - 1.0 / value, {"mean_logprob": -math.log(value)})


def _length_normalized_ll(ev: Evidence, _: Mapping[str, float]) -> MethodResult:
    value = gen.length_normalized_log_likelihood(ev.logprobs)
    return MethodResult(value, math.exp(value), {"tokens": len(ev.logprobs)})


def _token_sar(ev: Evidence, _: Mapping[str, float]) -> MethodResult:
    relevance, weights = sar_scores.token_relevance(ev.token_similarity or [], ev.special)
    value = sar_scores.token_sar(ev.logprobs, weights)
    return MethodResult(value, 1.0 - math.exp(-value), {"relevance": relevance, "weights": weights})


def _predictive_entropy(ev: Evidence, _: Mapping[str, float]) -> MethodResult:
    sample_logprobs, mean_logprobs = ev.sample_totals_and_means()
    value = samp.predictive_entropy(sample_logprobs)
    mean_length = max(1.0, sum(map(len, ev.sample_token_logprobs)) / len(sample_logprobs))
    return MethodResult(value, 1.0 - math.exp(-value / mean_length), {
        "sample_logprobs": sample_logprobs, "mean_length": mean_length,
        "length_normalized": -sum(mean_logprobs) / len(mean_logprobs)})


def _semantic_entropy(ev: Evidence, _: Mapping[str, float]) -> MethodResult:
    clusters = ev.clusters or []
    sample_logprobs, mean_logprobs = ev.sample_totals_and_means()
    masses = samp.cluster_masses(samp.sample_weights(mean_logprobs), clusters)
    value = samp.semantic_entropy(masses)
    return MethodResult(value, value / math.log(len(sample_logprobs)), {
        "clusters": clusters, "cluster_masses": masses,
        "discrete": samp.discrete_semantic_entropy(clusters),
        "monte_carlo_lm_polygraph": samp.monte_carlo_semantic_entropy(sample_logprobs, clusters)})


def _lexical_similarity(ev: Evidence, _: Mapping[str, float]) -> MethodResult:
    value = mean_pairwise_rouge_l(ev.sample_texts or [])
    return MethodResult(value, value, {"pairs": _k(ev) * (_k(ev) - 1) // 2})


def _num_semantic_sets(ev: Evidence, _: Mapping[str, float]) -> MethodResult:
    value = len(ev.clusters or [])
    return MethodResult(float(value), (value - 1) / (_k(ev) - 1), {"clusters": ev.clusters})


def _eigv(ev: Evidence, _: Mapping[str, float]) -> MethodResult:
    eigenvalues = graph.laplacian_eigenvalues(ev.affinity)
    value = graph.eigenvalue_uncertainty(eigenvalues)
    return MethodResult(value, (value - 1) / (_k(ev) - 1), {"eigenvalues": eigenvalues.tolist()})


def _degree(ev: Evidence, _: Mapping[str, float]) -> MethodResult:
    degrees = ev.checked_affinity().sum(axis=1).tolist()
    value = graph.degree_uncertainty_of(degrees)
    k = len(degrees)
    return MethodResult(value, value * k / (k - 1), {"degrees": degrees})


def _eccentricity(ev: Evidence, params: Mapping[str, float]) -> MethodResult:
    value, distances, kept = graph.eccentricity(ev.affinity, threshold=params["eigenvalue_threshold"])
    return MethodResult(value, value / math.sqrt(_k(ev) - 1), {"distances": distances, "eigenvectors_kept": kept})


def _semantic_volume(ev: Evidence, params: Mapping[str, float]) -> MethodResult:
    epsilon = params["epsilon"]
    value = samp.semantic_volume(ev.sample_embeddings, epsilon=epsilon)
    unit = samp.unit_rows(ev.sample_embeddings)
    return MethodResult(value, samp.semantic_volume_normalized(value, _k(ev), epsilon=epsilon),
                        {"gram_eigenvalues": np.linalg.eigvalsh(unit @ unit.T).tolist()})


def _sample_similarity(ev: Evidence) -> np.ndarray:
    """The samples' cosine affinity (K, K): as gathered, else from their embeddings."""
    return ev.sample_similarity if ev.sample_similarity is not None else samp.cosine_affinity(ev.sample_embeddings)


def _sentence_sar(ev: Evidence, params: Mapping[str, float]) -> MethodResult:
    probs = [math.exp(lp) for lp in ev.sample_logprobs]
    value, per_answer = sar_scores.sentence_sar(probs, _sample_similarity(ev), temperature=params["t"])
    return MethodResult(value, _logistic(value), {"per_answer": per_answer})


def _sar(ev: Evidence, params: Mapping[str, float]) -> MethodResult:
    token_values = [sar_scores.token_sar(logprobs, sar_scores.token_relevance(similarity, special)[1])
                    for logprobs, similarity, special in zip(ev.sample_token_logprobs or [],
                                                             ev.sample_token_similarity or [], ev.sample_special or [])]
    value, per_answer = sar_scores.sar(token_values, _sample_similarity(ev), temperature=params["t"])
    return MethodResult(value, _logistic(value), {"per_answer": per_answer, "token_sar_per_answer": token_values})


def _kle(ev: Evidence, params: Mapping[str, float]) -> MethodResult:
    value, density, eigenvalues = kern.kernel_language_entropy(ev.affinity, params["t"])
    return MethodResult(value, value / math.log(_k(ev)), {
        "kernel": density.tolist(), "eigenvalues": eigenvalues.tolist(), "t": params["t"],
        "terms": [float(-v * math.log(v)) if v > 0 else 0.0 for v in eigenvalues], "max_possible": math.log(_k(ev))})


def _cocoa(ev: Evidence, _: Mapping[str, float]) -> MethodResult:
    if ev.answer_similarity is None:
        raise ValueError("the answer was not compared with the samples")
    nll = -gen.sequence_log_probability(ev.logprobs)
    dissimilarity = kern.mean_dissimilarity(ev.answer_similarity)
    value = kern.cocoa_of(nll, dissimilarity)
    return MethodResult(value, 1.0 - math.exp(-value), {
        "answer_similarity": ev.answer_similarity, "mean_similarity": 1.0 - dissimilarity,
        "mean_dissimilarity": dissimilarity, "confidence": "msp", "uncertainty": nll,
        "sequence_probability": math.exp(-nll),
        "variants": {"cocoa_msp": value,
                     "cocoa_ppl": kern.cocoa_of(-gen.length_normalized_log_likelihood(ev.logprobs), dissimilarity),
                     "cocoa_mte": kern.cocoa_of(gen.mean_token_entropy(ev.entropies), dissimilarity)}})


def _verbalized(ev: Evidence, _: Mapping[str, float]) -> MethodResult:
    parsed = parse_confidence(ev.verbalized_reply or "")
    details = {"prompt": ev.prompts.get("verbalized"), "reply": ev.verbalized_reply, "reading": parsed.reading}
    if parsed.value is None:
        details["error"] = f"no confidence could be read: {parsed.reading}"
    return MethodResult(parsed.value, parsed.value, details)


def _p_true(ev: Evidence, _: Mapping[str, float]) -> MethodResult:
    p_true, p_false = ev.p_true_probs or (0.0, 0.0)
    value = p_true_normalized(p_true, p_false)
    details = {"prompt": ev.prompts.get("p_true"), "p_true_raw": p_true, "p_false_raw": p_false}
    if value is None:
        details["error"] = "the model gives neither True nor False any probability"
    return MethodResult(value, value, details)


SAR_T = Parameter("t", "SAR temperature t", "divides the other answers' relevance; smaller t lets agreement count "
                  "for more", "float", 0.001, minimum=1e-6, maximum=1.0)
KLE_T = Parameter("t", "KLE heat-kernel time t", "how far agreement spreads through the meaning graph; 0.6 on this "
                  "graph (entries in [0, 1]) is lm-polygraph's default 0.3 on its graph, which sums both NLI "
                  "directions", "float", 0.6, minimum=0.01, maximum=10.0)
PARK = "Park et al., Visualizing Uncertainty in Translation Tasks (2025)"
MALININ = "Malinin & Gales, Uncertainty Estimation in Autoregressive Structured Prediction (ICLR 2021)"
FOMICHEVA = "Fomicheva et al., Unsupervised Quality Estimation for Neural Machine Translation (TACL 2020)"
DUAN = "Duan et al., Shifting Attention to Relevance (ACL 2024)"
LIN = "Lin, Trivedi & Sun, Generating with Confidence (TMLR 2024)"
ONE_PASS = "none beyond the answer's own generate call and scoring pass"
SAMPLES_COST = "one batched generate call for K samples"
MEANING_COST = SAMPLES_COST + "; meaning: K(K-1) NLI pairs, or K embeddings"


def default_registry() -> Registry[MethodSpec]:
    """Every method UQ Lens ships, in the order the UI lists them ('all' is reserved: it selects every one)."""
    registry: Registry[MethodSpec] = Registry("method", reserved=(ALL_METHODS,), hint="use 'all' or some of")
    for spec in (
        MethodSpec("sequence_probability", "Sequence probability", "generation",
                   "Probability of the whole answer, the product of its token probabilities; falls with length.",
                   MALININ, "confident", "[0, 1]", "already in [0, 1]", ONE_PASS, ("generation",),
                   _sequence_probability, token_value=_of_logprobs(gen.sequence_probability)),
        MethodSpec("mean_token_probability", "Mean token probability", "generation",
                   "Arithmetic mean of the answer's token probabilities.", PARK, "confident", "[0, 1]",
                   "already in [0, 1]", ONE_PASS, ("generation",), _mean_token_probability,
                   token_value=_of_logprobs(gen.mean_token_probability)),
        MethodSpec("geometric_mean_probability", "Geometric-mean token probability", "generation",
                   "exp of the mean token log-probability: the per-token probability of the whole answer.", PARK,
                   "confident", "[0, 1]", "already in [0, 1]", ONE_PASS, ("generation",),
                   _geometric_mean_probability, token_value=_of_logprobs(gen.geometric_mean_probability)),
        MethodSpec("mean_kurtosis", "Mean kurtosis", "generation",
                   "Mean excess kurtosis of the next-token distributions: high when one token stands out of a flat "
                   "tail.", PARK, "confident", "[-2, (V^2-3V+3)/(V-1) - 3]",
                   "divided by the largest possible value for the vocabulary (a one-hot distribution)",
                   "one more scoring pass over prompt + answer", ("generation", "kurtosis"), _mean_kurtosis),
        MethodSpec("mean_token_entropy", "Mean token entropy", "generation",
                   "Mean entropy (nats) of the next-token distributions over the answer.", FOMICHEVA, "uncertain",
                   "[0, ln V]", "divided by ln V (a uniform distribution)", ONE_PASS, ("generation",),
                   _mean_token_entropy, token_value=_of_entropies(gen.mean_token_entropy),
                   exact_requires=("full_distribution",)),
        MethodSpec("max_token_entropy", "Max token entropy", "generation",
                   "The largest token entropy (nats): the answer's most hesitant step.", FOMICHEVA, "uncertain",
                   "[0, ln V]", "divided by ln V", ONE_PASS, ("generation",), _max_token_entropy,
                   token_value=_of_entropies(gen.max_token_entropy), exact_requires=("full_distribution",)),
        MethodSpec("perplexity", "Perplexity", "generation",
                   "exp of the mean surprisal: the number of equally likely tokens the model chose among, on "
                   "average.", MALININ, "uncertain", "[1, inf)", "1 - 1/perplexity", ONE_PASS, ("generation",),
                   _perplexity, token_value=_of_logprobs(gen.perplexity)),
        MethodSpec("length_normalized_log_likelihood", "Length-normalised log-likelihood", "generation",
                   "Mean token log-probability (nats); unlike the sequence probability it does not fall with "
                   "length.", MALININ, "confident", "(-inf, 0]", "exp(value), the geometric-mean probability",
                   ONE_PASS, ("generation",), _length_normalized_ll,
                   token_value=_of_logprobs(gen.length_normalized_log_likelihood)),
        MethodSpec("token_sar", "TokenSAR", "generation",
                   "Surprisal with each token weighted by how much removing it changes the answer's meaning.",
                   DUAN, "uncertain", "[0, inf) nats", "1 - exp(-value)",
                   "T+1 embeddings (the answer with each token removed)", ("generation", "token_relevance"),
                   _token_sar),
        MethodSpec("predictive_entropy", "Predictive entropy", "samples",
                   "Mean surprisal (nats) of K sampled answers: a Monte-Carlo estimate of the entropy over answers.",
                   MALININ, "uncertain", "[0, inf) nats", "1 - exp(-value / mean sample length in tokens)",
                   SAMPLES_COST, ("samples",), _predictive_entropy),
        MethodSpec("semantic_entropy", "Semantic entropy", "samples",
                   "Entropy over meanings: the K answers are grouped by meaning and each group weighted by its "
                   "probability.", "Kuhn, Gal & Farquhar, Semantic Uncertainty (ICLR 2023); Farquhar et al. "
                   "(Nature 2024)", "uncertain", "[0, ln K] nats", "divided by ln K", MEANING_COST,
                   ("samples", "meaning"), _semantic_entropy),
        MethodSpec("lexical_similarity", "Lexical similarity", "samples",
                   "Mean ROUGE-L F1 between pairs of sampled answers: how much they share their words.",
                   FOMICHEVA, "confident", "[0, 1]", "already in [0, 1]", SAMPLES_COST, ("samples",),
                   _lexical_similarity),
        MethodSpec("num_semantic_sets", "Number of semantic sets", "samples",
                   "How many different meanings the K answers have.", LIN, "uncertain", "[1, K]",
                   "(value - 1) / (K - 1)", MEANING_COST, ("samples", "meaning"), _num_semantic_sets),
        MethodSpec("eigv", "EigV", "samples",
                   "Sum of max(0, 1 - eigenvalue) of the answers' graph Laplacian: a soft count of meanings.", LIN,
                   "uncertain", "[1, K]", "(value - 1) / (K - 1)", MEANING_COST, ("samples", "meaning"), _eigv),
        MethodSpec("degree", "Degree", "samples",
                   "1 - mean agreement of each answer with all answers: how little the answers agree.", LIN,
                   "uncertain", "[0, (K-1)/K]", "multiplied by K / (K - 1)", MEANING_COST,
                   ("samples", "meaning"), _degree),
        MethodSpec("eccentricity", "Eccentricity", "samples",
                   "Spread of the answers' spectral embeddings around their centre.", LIN, "uncertain",
                   "[0, sqrt(K-1)]", "divided by sqrt(K - 1)", MEANING_COST, ("samples", "meaning"), _eccentricity,
                   (Parameter("eigenvalue_threshold", "Eigenvalue threshold", "Laplacian eigenvectors with "
                              "eigenvalues below this embed the answers", "float", 0.9, minimum=0.01, maximum=2.0),)),
        MethodSpec("kle", "Kernel language entropy", "samples",
                   "Von Neumann entropy (nats) of the heat kernel of the answers' meaning graph, made a unit-trace "
                   "density matrix: a soft count of meanings that also weighs how close they are.",
                   "Nikitin et al., Kernel Language Entropy (NeurIPS 2024)", "uncertain", "[0, ln K] nats",
                   "divided by ln K", MEANING_COST + "; a K x K eigendecomposition", ("samples", "meaning"), _kle,
                   (KLE_T,)),
        MethodSpec("semantic_volume", "Semantic Volume", "samples",
                   "log det of the Gram matrix of the answers' unit embeddings: the volume they span.",
                   "Li et al., Semantic Volume (AAAI 2026)", "uncertain", "(K ln eps, K ln(1+eps)]",
                   "exp(value / K) / (1 + eps): geometric-mean Gram eigenvalue", SAMPLES_COST + "; K embeddings",
                   ("samples", "sample_embeddings"), _semantic_volume,
                   (Parameter("epsilon", "Ridge eps", "added to the Gram matrix's diagonal so that coinciding "
                              "answers give a finite value", "float", 1e-3, minimum=1e-8, maximum=1.0),)),
        MethodSpec("sentence_sar", "SentenceSAR", "samples",
                   "Mean -log of each answer's probability plus the probability of the answers that agree with it.",
                   DUAN, "uncertain", "(-inf, inf) nats", "logistic 1/(1+e^-x): order only, no natural scale",
                   SAMPLES_COST + "; K embeddings", ("samples", "sample_embeddings"), _sentence_sar, (SAR_T,)),
        MethodSpec("sar", "SAR", "samples",
                   "SentenceSAR with each answer's probability replaced by its TokenSAR probability.", DUAN,
                   "uncertain", "(-inf, inf) nats", "logistic 1/(1+e^-x): order only, no natural scale",
                   SAMPLES_COST + "; K embeddings and K(T+1) token-removal embeddings",
                   ("samples", "sample_embeddings", "sample_token_relevance"), _sar, (SAR_T,)),
        MethodSpec("cocoa", "CoCoA", "samples",
                   "The answer's surprisal -ln p(answer) (nats) times its mean dissimilarity 1 - s to the K samples: "
                   "high when the model doubts the answer and the samples disagree with it.",
                   "Vashurin et al., CoCoA: Bridging Confidence and Consistency (NeurIPS 2025)", "uncertain",
                   "[0, inf) nats", "1 - exp(-value)", MEANING_COST + "; the answer vs each sample: 2K NLI pairs, "
                   "or K + 1 embeddings", ("samples", "meaning", "answer_meaning"), _cocoa),
        MethodSpec("ccp", "Claim-conditioned probability", "generation",
                   "Per claim, the product over its tokens of the probability of the top-k alternatives that keep "
                   "the claim's meaning against those that change it; the answer's value is the product over claims.",
                   "Fadeeva et al., Fact-Checking the Output of LLMs via Token-Level Uncertainty Quantification "
                   "(ACL Findings 2024)", "confident", "[0, 1]", "already in [0, 1]",
                   "per claim token, its top-4 alternatives judged: 2 NLI pairs each, or 2 embeddings",
                   ("generation", "claims", "claim_alternatives"), ccp_result),
        MethodSpec("luq", "LUQ", "samples",
                   "1 - mean support of the answer's claims, a claim's support being how strongly the K samples "
                   "entail (NLI) or say (embedding claim rule) it.",
                   "Zhang et al., LUQ: Long-text Uncertainty Quantification for LLMs (EMNLP 2024)", "uncertain",
                   "[0, 1]", "already in [0, 1]", SAMPLES_COST + "; claims x K NLI pairs, or the claims and the "
                   "samples' sentences embedded", ("samples", "claims", "claim_support"), luq_result),
        MethodSpec("verbalized_confidence", "Verbalized confidence", "ask",
                   "The confidence the model states when asked for a number from 0 to 100.",
                   "Tian et al., Just Ask for Calibration (EMNLP 2023)", "confident", "[0, 1]",
                   "already in [0, 1]", "one short generate call (at most 8 tokens)", ("verbalized",), _verbalized),
        MethodSpec("p_true", "P(True)", "ask",
                   "Probability the model gives to 'True' when asked whether its answer is true, against 'False'.",
                   "Kadavath et al., Language Models (Mostly) Know What They Know (2022)", "confident", "[0, 1]",
                   "already in [0, 1]", "one forward pass", ("p_true",), _p_true),
    ):
        registry.register(spec)
    for spec in (RAUQ, UQAC, INV_ENTROPY):  # backend.sequence.attention_methods, backend.sequence.perturbation
        registry.register(spec)
    return registry


METHODS = default_registry()
