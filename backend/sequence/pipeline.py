"""Sequence-level uncertainty of one answer: gather the evidence the selected methods need, then score.

The answer is analysed exactly as on the Text page (backend.text.generation.analyze_text), so the scores describe
the same generation as the token heatmap. Each piece of evidence is gathered once, whatever the number of methods
that share it; the K samples come from one batched generate call.

Which methods run (runnable_methods): a method the text model cannot do (its MethodSpec.requires has a capability
the model's registry entry lacks, e.g. mean kurtosis on a served model) is refused with a UserInputError before
anything runs when it is named; with methods=["all"] it is left out, and SequenceAnalysis.left_out says which and
why. A model served by an engine runs backend.served.sequence_analysis instead (the operations table's served
pipeline), which shares the selection, the scoring and the assembly here.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional, Union

import numpy as np

from backend.analyses import evidence as ev
from backend.analyses.generation_scores import excess_kurtosis
from backend.analyses.meaning_graph import greedy_meaning_clusters, laplacian_spectrum
from backend.analyses.sample_scores import cluster_masses, cosine_affinity, sample_weights
from backend.analyses.sar import token_relevance
from backend.claims.evidence import gather_claim_alternatives, gather_claim_support, gather_claims
from backend.claims.methods import claim_rows
from backend.sequence.attention_methods import gather_attention
from backend.sequence.method_spec import MethodSpec, run_method
from backend.sequence.perturbation_evidence import gather_perturbations
from backend.sequence.methods import METHODS, method_names
from backend.errors import UserInputError
from backend.models.embedding_loader import LoadedEmbeddingModel
from backend.models.nli_loader import LoadedNliModel
from backend.models.text_loader import LoadedTextModel
from backend.served.model import ServedTextModel
from backend.sequence.sampling import Sample, sample_answers
from backend.sequence.self_assessment import ask_confidence, ask_p_true
from backend.sequence.evidence import (answer_similarity_by_embedding, answer_similarity_by_nli, meaning_by_embedding,
                                       meaning_by_nli, removal_similarities)
from backend.schemas import (ALL_METHODS, MeaningCluster, MeaningSource, SampledAnswer, SequenceAnalysis,
                             SequenceRequest, SequenceScore, TextAnalysis, TokenRelevance)
from backend.schemas.sequence import ClaimScore, why_not
from backend.text.generation import analyze_text, answer_logits


@dataclass
class SequenceModels:
    """The models one analysis uses; embedder, nli and meaning are None when no selected method needs them."""

    lm: Union[LoadedTextModel, ServedTextModel]
    embedder: Optional[LoadedEmbeddingModel]
    nli: Optional[LoadedNliModel]
    meaning: Optional[MeaningSource]


def selected_methods(request: SequenceRequest) -> list[MethodSpec]:
    """The registry entries the request names ('all' = every one), with parameters checked against their ranges."""
    names = method_names() if ALL_METHODS in request.methods else request.methods
    specs = [METHODS.get(name) for name in names]
    chosen = {spec.name: spec for spec in specs}
    for method, values in request.method_parameters.items():
        if method not in chosen:
            raise UserInputError(f"parameters were given for {method!r}, which is not among the selected methods")
        chosen[method].check(values)
    return specs


def runnable_methods(request: SequenceRequest,
                     capabilities: Iterable[str]) -> tuple[list[MethodSpec], dict[str, str]]:
    """(the selected methods a text model with `capabilities` can run, {left-out method: why}).

    Named methods the model cannot run, or a given answer it cannot score, are a UserInputError saying why and
    what to change; with 'all', such methods are left out (and named with the reason)."""
    have = set(capabilities)
    if request.text.answer is not None and "score_given_answer" not in have:
        raise UserInputError(f"{request.text.model!r} cannot score a given answer: it "
                             f"{why_not(['score_given_answer'])}")
    specs, left_out = [], {}
    for spec in selected_methods(request):
        missing = spec.missing(have)
        if missing:
            left_out[spec.name] = why_not(missing)
        else:
            specs.append(spec)
    if left_out and ALL_METHODS not in request.methods:
        named = "; ".join(f"{name} ({why})" for name, why in left_out.items())
        raise UserInputError(f"{request.text.model!r} cannot run {named}; deselect "
                             f"{'it' if len(left_out) == 1 else 'them'}, or select 'all' to run what it can")
    return specs, left_out


def needed_evidence(specs: list[MethodSpec], meaning_kind: str) -> list[str]:
    """The evidence the methods need, with its dependencies, in gathering order ("" = meaning not needed)."""
    return ev.required_evidence({need for spec in specs for need in spec.needs}, meaning_kind)


@dataclass
class SequenceRun:
    """One analysis in progress: its models, request, analysed answer, evidence so far and samples.

    left_out: methods 'all' selected that the model cannot run, with why; sample_logprob_temperature: the
    temperature of the distribution the samples' log-probabilities come from (None: the server does not say);
    evidence_note: how the evidence was gathered where it differs from an in-process model's."""

    models: SequenceModels
    request: SequenceRequest
    text: TextAnalysis
    evidence: ev.Evidence
    samples: list[Sample] = field(default_factory=list)
    left_out: dict[str, str] = field(default_factory=dict)
    sample_logprob_temperature: Optional[float] = None
    evidence_note: str = ""

    @property
    def answer_ids(self) -> list[int]:
        return self.text.ids[self.text.answer_start:]


def _gather_kurtosis(run: SequenceRun) -> None:
    logits = answer_logits(run.models.lm, run.text.ids, run.text.answer_start)
    run.evidence.kurtosis = excess_kurtosis(logits, temperature=run.request.text.temperature).tolist()


def _gather_token_relevance(run: SequenceRun) -> None:
    run.evidence.token_similarity = removal_similarities(run.models.embedder, run.models.lm.tokenizer,
                                                         run.request.text.prompt, [run.answer_ids])[0]


def _gather_samples(run: SequenceRun) -> None:
    lm, request = run.models.lm, run.request
    run.samples = sample_answers(lm, run.text.ids[:run.text.answer_start], k=request.samples,
                                 temperature=request.sample_temperature, max_new_tokens=request.text.max_new_tokens,
                                 seed=request.text.seed)
    special = set(lm.tokenizer.all_special_ids)
    run.evidence.sample_token_logprobs = [s.token_logprobs for s in run.samples]
    run.evidence.sample_texts = [lm.tokenizer.decode(s.ids, skip_special_tokens=True).strip() for s in run.samples]
    run.evidence.sample_special = [[i in special for i in s.ids] for s in run.samples]


def _gather_sample_embeddings(run: SequenceRun) -> None:
    run.evidence.sample_embeddings = run.models.embedder.embed(run.evidence.sample_texts).astype(np.float64)
    run.evidence.sample_similarity = cosine_affinity(run.evidence.sample_embeddings)


def _gather_meaning(run: SequenceRun) -> None:
    models, evidence = run.models, run.evidence
    if models.meaning.kind == "nli":
        same, affinity = meaning_by_nli(models.nli, evidence.sample_texts)
    else:
        same, affinity = meaning_by_embedding(models.embedder, evidence.sample_texts, run.request.text.prompt,
                                              models.meaning.threshold)
    evidence.clusters, evidence.affinity = greedy_meaning_clusters(same), affinity


def _gather_answer_meaning(run: SequenceRun) -> None:
    models, evidence, answer = run.models, run.evidence, run.text.generated_text.strip()
    if models.meaning.kind == "nli":
        evidence.answer_similarity = answer_similarity_by_nli(models.nli, answer, evidence.sample_texts)
    else:
        evidence.answer_similarity = answer_similarity_by_embedding(models.embedder, answer, evidence.sample_texts,
                                                                    run.request.text.prompt)


def _gather_sample_token_relevance(run: SequenceRun) -> None:
    run.evidence.sample_token_similarity = removal_similarities(
        run.models.embedder, run.models.lm.tokenizer, run.request.text.prompt, [s.ids for s in run.samples])


def _gather_verbalized(run: SequenceRun) -> None:
    run.evidence.prompts["verbalized"], run.evidence.verbalized_reply = ask_confidence(
        run.models.lm, run.request.text.prompt, run.text.generated_text, run.request.text.chat_template)


def _gather_p_true(run: SequenceRun) -> None:
    try:
        model_input, p_true, p_false = ask_p_true(run.models.lm, run.request.text.prompt, run.text.generated_text,
                                                  run.request.text.chat_template)
    except ValueError as exc:
        run.evidence.failures["p_true"] = str(exc)
        return
    run.evidence.prompts["p_true"], run.evidence.p_true_probs = model_input, (p_true, p_false)


GATHERERS: dict[str, Callable[[SequenceRun], None]] = {
    "kurtosis": _gather_kurtosis,
    "token_relevance": _gather_token_relevance,
    "samples": _gather_samples,
    "sample_embeddings": _gather_sample_embeddings,
    "meaning": _gather_meaning,
    "answer_meaning": _gather_answer_meaning,
    "sample_token_relevance": _gather_sample_token_relevance,
    "claims": gather_claims,
    "claim_alternatives": gather_claim_alternatives,
    "claim_support": gather_claim_support,
    "verbalized": _gather_verbalized,
    "p_true": _gather_p_true,
    "attention": gather_attention,
    "perturbations": gather_perturbations,
}


def analyze_sequence(models: SequenceModels, request: SequenceRequest) -> SequenceAnalysis:
    """Every selected method on the request's answer. The caller holds the locks of all models used."""
    started = time.perf_counter()
    specs, left_out = runnable_methods(request, models.lm.spec.capabilities)
    text = analyze_text(models.lm, request.text)
    evidence = ev.Evidence(logprobs=[t.logprob for t in text.tokens], entropies=[t.entropy for t in text.tokens],
                           special=[t.special for t in text.tokens], vocab_size=int(models.lm.model.config.vocab_size))
    run = SequenceRun(models, request, text, evidence, left_out=left_out,
                      sample_logprob_temperature=request.sample_temperature)
    seconds = {"generation": text.seconds}
    for name in needed_evidence(specs, models.meaning.kind if models.meaning else ""):
        if name in GATHERERS:
            stage = time.perf_counter()
            GATHERERS[name](run)
            seconds[name] = time.perf_counter() - stage
    scores = [score_method(spec, evidence, request) for spec in specs]
    seconds["total"] = time.perf_counter() - started
    return assemble(run, scores, seconds)


def score_method(spec: MethodSpec, evidence: ev.Evidence, request: SequenceRequest) -> SequenceScore:
    """One method's SequenceScore."""
    result = run_method(spec, evidence, request.method_parameters.get(spec.name, {}))
    return SequenceScore(name=spec.name, label=spec.label, value=result.value, normalized=result.normalized,
                         higher_is=spec.higher_is, value_range=spec.value_range, normalization=spec.normalization,
                         description=spec.description, details=result.details)


def assemble(run: SequenceRun, scores: list[SequenceScore], seconds: dict[str, float]) -> SequenceAnalysis:
    """The SequenceAnalysis: samples with their clusters and weights, the graph, the SAR weights and the scores."""
    evidence, samples = run.evidence, run.samples
    clusters = evidence.clusters or []
    weights = sample_weights(evidence.sample_mean_logprobs) if samples else np.zeros(0)
    cluster_of = {i: c for c, members in enumerate(clusters) for i in members}
    relevance: list[TokenRelevance] = []
    if evidence.token_similarity is not None:
        values, normalised = token_relevance(evidence.token_similarity, evidence.special)
        relevance = [TokenRelevance(text=t.text, logprob=t.logprob, entropy=t.entropy, similarity_without=sim,
                                    relevance=r, weight=w)
                     for t, sim, r, w in zip(run.text.tokens, evidence.token_similarity, values, normalised)]
    affinity = evidence.affinity
    return SequenceAnalysis(
        text=run.text, methods=[s.name for s in scores], sample_temperature=run.request.sample_temperature,
        samples=[SampledAnswer(index=i, text=evidence.sample_texts[i], ids=s.ids, token_logprobs=s.token_logprobs,
                               logprob=sum(s.token_logprobs), stop_reason=s.stop_reason,
                               cluster=cluster_of.get(i, -1), weight=float(weights[i]))
                 for i, s in enumerate(samples)],
        meaning=run.models.meaning if clusters else None,
        clusters=[MeaningCluster(id=c, members=members, mass=mass, share=len(members) / len(samples))
                  for c, (members, mass) in enumerate(zip(clusters, cluster_masses(weights, clusters)))],
        similarity=affinity.tolist() if affinity is not None else [],
        laplacian_eigenvalues=laplacian_spectrum(affinity)[0].tolist() if affinity is not None else [],
        token_relevance=relevance, scores=scores, seconds=seconds, left_out=run.left_out,
        sample_logprob_temperature=run.sample_logprob_temperature if samples else None,
        evidence_note=run.evidence_note, **claims_part(run, {s.name for s in scores}))


def claims_part(run: SequenceRun, methods: set[str]) -> dict:
    """The SequenceAnalysis fields claims and claims_rule (empty when no claim method ran)."""
    meaning = run.models.meaning
    if run.evidence.claims is None or meaning is None:
        return {}
    threshold = 0.5 if meaning.kind == "nli" else meaning.threshold
    split = ("the request's claims" if run.request.claims or run.request.claim_spans
             else "the answer split into sentences and the clauses of long sentences")
    judged = (f"judged by the NLI model {meaning.model} (a sample supports a claim at entail / (entail + "
              f"contradict) >= 0.5)" if meaning.kind == "nli" else
              f"judged by the embedding model {meaning.model} with the claim rule (a sample supports a claim when "
              f"its closest sentence's affinity is at least {threshold:g}; no NLI model is registered)")
    return {"claims": [ClaimScore(**row) for row in claim_rows(run.evidence, methods, threshold)],
            "claims_rule": f"{split}; meaning {judged}"}
