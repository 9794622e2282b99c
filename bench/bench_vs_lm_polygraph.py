"""UQ Lens's sequence-level scores against lm-polygraph's estimators on the same model, in one run.

    .venv-bench/bin/python bench/bench_vs_lm_polygraph.py [--new-tokens 16] [--samples 8] [--repeats 3]
        [--model ID] [--device cpu|cuda] [--threads N] [--no-memory] [--out FILE]

Whole pipelines (a chat-template question, greedy answer of at most --new-tokens tokens): UQ Lens's
Engine.analyze_sequence against lm-polygraph 0.7's UEManager on a WhiteboxModel wrapping the same model object:
  - the generation scores (sequence probability, perplexity, mean token entropy), lm-polygraph both with the stat
    calculators these estimators need only and with its defaults (which also collect attentions and hidden states,
    as estimate_uncertainty does); agreement when both produce the same greedy ids;
  - predictive entropy and lexical similarity from --samples samples at temperature 0.7 (no agreement: each tool
    draws its own samples);
  - the meaning-based methods and SAR, which lm-polygraph computes with models from the Hugging Face hub (DeBERTa
    NLI, a RoBERTa cross-encoder) that this machine cannot reach.
Then every lm-polygraph estimator that UQ Lens also has, fed UQ Lens's own evidence (the analysed answer's token
log-probabilities and entropies, the K samples, the meaning clusters and affinities of the embedding model, SAR's
token similarities, the answer's similarity to each sample), so the values must agree wherever the definitions do;
each note says where they differ (bench/polygraph_feed.py: how KLE's and CoCoA's evidence is fed).
Prints a table and writes JSON (artifacts/bench/bench_vs_lm_polygraph.json).
"""
from __future__ import annotations

import argparse
import math
import sys
from typing import Any, Callable, Optional

import numpy as np

import harness
import polygraph_attention as attention_feed
import polygraph_feed as feed
import workload
from backend.analyses.evidence import Evidence
from backend.analyses.sample_scores import cosine_affinity
from backend.sequence.method_spec import MethodResult, run_method
from backend.sequence.methods import METHODS
from backend.models.text_loader import LoadedTextModel
from backend.schemas import DEFAULT_EMBEDDING_MODEL, SequenceAnalysis, SequenceRequest, TextRequest

PEER = "lm-polygraph"
QUESTION = "Name a famous scientist and say what they discovered."
SAMPLE_TEMPERATURE = 0.7
GENERATION = ["sequence_probability", "perplexity", "mean_token_entropy"]
MEANING = ["semantic_entropy", "num_semantic_sets", "eigv", "degree", "eccentricity"]
HUB_NLI = ("lm-polygraph's semantic matrix comes from microsoft/deberta-large-mnli on the Hugging Face hub, which "
           "this machine cannot reach (UQ Lens: all-MiniLM-L6-v2 embeddings here); the estimator rows below compare "
           "the values on UQ Lens's meaning clusters")
HUB_CROSS_ENCODER = ("lm-polygraph's SAR similarities come from cross-encoder/stsb-roberta-large on the Hugging Face "
                     "hub, which this machine cannot reach; the estimator rows below compare the values on UQ "
                     "Lens's similarities")

HUB_KLE_COCOA = ("lm-polygraph's KLE reads DeBERTa NLI matrices and its CoCoA a RoBERTa cross-encoder's similarities, "
                 "both from the Hugging Face hub, which this machine cannot reach; the estimator rows below compare "
                 "the values on UQ Lens's meaning affinities")


def polygraph_stats(evidence: Evidence, threshold: float, answer_texts: list[str]) -> dict[str, Any]:
    """lm-polygraph's statistics (a batch of one input) made from UQ Lens's evidence (answer_texts: the answer's
    token texts, for CCP's alternatives).

    semantic_matrix_entail is UQ Lens's affinity; semantic_matrix_contra is 1 - (affinity >= threshold), so that
    NumSemSets' rule 'entail > contra' links the same pairs as UQ Lens's 'same meaning'."""
    clusters = evidence.clusters or []
    affinity = np.asarray(evidence.affinity, dtype=np.float64)
    return {
        "greedy_log_likelihoods": [np.array(evidence.logprobs)],
        "entropy": [np.array(evidence.entropies)],
        "sample_log_probs": [np.array(evidence.sample_logprobs)],
        "sample_log_likelihoods": [[np.array(lps) for lps in evidence.sample_token_logprobs or []]],
        "sample_texts": [evidence.sample_texts],
        "semantic_classes_entail": {"class_to_sample": [clusters],
                                    "sample_to_class": [{i: c for c, members in enumerate(clusters) for i in members}]},
        "semantic_matrix_entail": affinity[None],
        "semantic_matrix_contra": 1.0 - (affinity >= threshold)[None],
        "sample_sentence_similarity": [cosine_affinity(evidence.sample_embeddings)],
        "token_similarity": [np.array(evidence.token_similarity)],
        "sample_token_similarity": [[np.array(s) for s in evidence.sample_token_similarity or []]],
        **feed.cocoa_stats(evidence.answer_similarity or []),
        **attention_feed.attention_stats(evidence.attention),
        **feed.ccp_stats(evidence.claim_alternatives or [], answer_texts),
        **feed.luq_stats(evidence.claim_support if evidence.claim_support is not None else np.zeros((1, 1))),
    }


def unstemmed(estimator: Any) -> Any:
    """lm-polygraph's LexicalSimilarity with rouge-score's Porter stemmer off (UQ Lens's tokenisation)."""
    from rouge_score import rouge_scorer

    estimator.scorer = rouge_scorer.RougeScorer([estimator.metric], use_stemmer=False)
    estimator.bench_label = "LexicalSimilarity, no stemmer"
    return estimator


def estimator_pairs(est: Any) -> list[tuple[str, Any, Callable[[MethodResult], float], str]]:
    """(UQ Lens method, lm-polygraph estimator, UQ Lens's result in lm-polygraph's convention, note)."""
    same = "same definition"
    kle_t = feed.polygraph_heat_time(next(p for p in METHODS.get("kle").parameters if p.name == "t").default)
    kle_note = (f"lm-polygraph fed E = W, C = 1 - W makes its graph 2W (it sums both NLI directions and counts "
                f"neutral as 1/2): t = {kle_t:g} there is UQ Lens's default t = {2 * kle_t:g} on W; with real NLI "
                f"probabilities its graph is 1 + mean entailment - mean contradiction, UQ Lens's the mean entailment; "
                f"it adds 1e-12 to each sqrt(K_ii), which moves the value by about 1e-12")
    return [
        ("sequence_probability", est.MaximumSequenceProbability(), lambda r: -r.details["sequence_logprob"],
         "lm-polygraph gives -sum log p, UQ Lens p = exp(sum log p): compared as -log p"),
        ("perplexity", est.Perplexity(), lambda r: math.log(r.value),
         "lm-polygraph's Perplexity is -mean log p, the log of UQ Lens's perplexity: compared as log"),
        ("mean_token_entropy", est.MeanTokenEntropy(), lambda r: r.value, same),
        ("predictive_entropy", est.MonteCarloSequenceEntropy(), lambda r: r.value, same),
        ("semantic_entropy", est.SemanticEntropy(), lambda r: r.details["monte_carlo_lm_polygraph"],
         "UQ Lens's value uses Farquhar et al.'s normalised cluster masses; compared: the Monte-Carlo variant in "
         "its details, lm-polygraph's definition"),
        ("semantic_entropy", est.SemanticEntropy(class_probability_estimation="frequency"),
         lambda r: r.details["discrete"], "discrete semantic entropy (cluster sizes), in UQ Lens's details"),
        ("lexical_similarity", est.LexicalSimilarity(), lambda r: -r.value,
         "lm-polygraph gives -mean ROUGE-L and stems words (Porter), UQ Lens does not stem: compared with the "
         "sign flipped; stemming can differ"),
        ("lexical_similarity", unstemmed(est.LexicalSimilarity()), lambda r: -r.value,
         "the same estimator with rouge-score's stemmer off: the definitions then match"),
        ("num_semantic_sets", est.NumSemSets(), lambda r: r.value,
         "UQ Lens counts Kuhn et al.'s greedy clusters, lm-polygraph connected components of the same relation: "
         "equal when the relation is transitive"),
        ("eigv", est.EigValLaplacian(), lambda r: r.value, same),
        ("degree", est.DegMat(), lambda r: r.value, same),
        ("eccentricity", est.Eccentricity(), lambda r: r.value, same + " (eigenvalue threshold 0.9)"),
        ("token_sar", est.TokenSAR(), lambda r: r.value,
         "UQ Lens clips relevance to [0, 1] and gives special tokens none"),
        ("sentence_sar", est.SentenceSAR(), lambda r: r.value, same + " (t = 0.001)"),
        ("sar", est.SAR(), lambda r: r.value, same + " (t = 0.001)"),
        ("kle", feed.Fed(est.KernelLanguageEntropy(t=kle_t, scale=False), feed.kle_replaced,
                         f"KernelLanguageEntropy(t={kle_t:g}, scale=False)"), lambda r: r.value, kle_note),
        ("kle", feed.Fed(est.KernelLanguageEntropy(t=kle_t), feed.kle_replaced, f"KernelLanguageEntropy(t={kle_t:g})"),
         lambda r: r.normalized, "lm-polygraph's scale=True divides by ln K: UQ Lens's normalised value"),
        ("cocoa", est.CocoaMSP(), lambda r: r.value,
         same + " (CoCoA-MSP: -ln p(answer) x mean(1 - s)); lm-polygraph's s is a RoBERTa cross-encoder from the hub, "
         "UQ Lens's the meaning rule: compared on UQ Lens's s"),
        ("cocoa", est.CocoaPPL(), lambda r: r.details["variants"]["cocoa_ppl"],
         "CoCoA-PPL (-mean ln p x mean(1 - s)), in UQ Lens's details"),
        ("cocoa", est.CocoaMTE(), lambda r: r.details["variants"]["cocoa_mte"],
         "CoCoA-MTE (mean token entropy x mean(1 - s)), in UQ Lens's details"),
        ("ccp", est.ClaimConditionedProbability(), lambda r: -r.value,
         "the sequence-level CCP: the product over the claims' tokens (lm-polygraph's over every answer token; a token "
         "outside the claims counts 1 in both); lm-polygraph gives -CCP, compared with the sign flipped; the classes "
         "are UQ Lens's (the embedding model's claim rule here, lm-polygraph's a DeBERTa NLI from the hub)"),
        ("luq", est.LUQ(), lambda r: r.value,
         "lm-polygraph's LUQ compares whole samples (no claim split); fed every row as the answer's mean claim support "
         "by each sample (bench/polygraph_feed.py), its value is UQ Lens's 1 - mean claim support"),
        ("rauq", attention_feed.SizedRAUQ(est, 0.5), lambda r: r.value,
         same + " (alpha 0.5, middle-third layers); fed UQ Lens's previous-token attention read in chunks, as its "
         "attention_all diagonal below the main one"),
    ]


def manager_run(lmp: dict[str, Any], lm: LoadedTextModel, estimators: Callable[[], list[Any]], prompts: list[str], *,
                new_tokens: int, batch_size: int = 1, samples: int = 0, light: bool = True) -> Callable[[], Any]:
    """One UEManager run over the prompts (chat template, batch_size at a time): greedy (and, with samples,
    sampled) generation on a WhiteboxModel sharing UQ Lens's model object, then the estimators. light: only the
    stat calculators the estimators need, without the attentions and hidden states lm-polygraph's defaults
    collect."""
    params = lmp["GenerationParameters"](temperature=SAMPLE_TEMPERATURE if samples else 1.0, top_k=0, top_p=1.0,
                                         max_new_tokens=new_tokens)
    tokenizer = workload.tokenizer_copy(lm)
    tokenizer.padding_side = "left"  # lm-polygraph pads batches with the tokenizer; a decoder-only model needs left
    model = lmp["WhiteboxModel"](lm.model, tokenizer, model_path=lm.spec.id, generation_parameters=params,
                                 instruct=True)

    def run() -> Any:
        calculators = lmp["register"]("Whitebox", output_attentions=not light, output_hidden_states=not light)
        data = lmp["Dataset"](prompts, [""] * len(prompts), batch_size=batch_size)
        manager = lmp["UEManager"](data, model, estimators(), lmp["Environment"](model), calculators, [], [], [],
                                   ignore_exceptions=False, verbose=False, max_new_tokens=new_tokens)
        for calculator in manager.stat_calculators:
            if samples and hasattr(calculator, "samples_n"):
                calculator.samples_n = samples
        manager()
        return manager
    return run


def generation_difference(uq: SequenceAnalysis, manager: Any) -> Optional[harness.Agreement]:
    """Agreement of -log p, log perplexity and mean entropy when both tools produced the same greedy ids."""
    if manager.stats["greedy_tokens"][0] != uq.text.ids[uq.text.answer_start:]:
        return None
    values = {s.name: s for s in uq.scores}
    ours = [-values["sequence_probability"].details["sequence_logprob"], math.log(values["perplexity"].value),
            values["mean_token_entropy"].value]
    theirs = [manager.estimations["sequence", name][0] for name in ("MaximumSequenceProbability", "Perplexity",
                                                                     "MeanTokenEntropy")]
    return harness.agreement(ours, theirs)


def import_polygraph() -> tuple[dict[str, Any], Any, str]:
    """({name: lm-polygraph class or function}, its estimators module, "") or ({}, None, why it cannot run)."""
    est, missing = harness.import_peer("lm_polygraph.estimators")
    if est is None:
        return {}, None, missing
    from lm_polygraph import WhiteboxModel
    from lm_polygraph.defaults.register_default_stat_calculators import register_default_stat_calculators
    from lm_polygraph.utils.builder_enviroment_stat_calculator import BuilderEnvironmentStatCalculator
    from lm_polygraph.utils.dataset import Dataset
    from lm_polygraph.utils.generation_parameters import GenerationParameters
    from lm_polygraph.utils.manager import UEManager
    return ({"WhiteboxModel": WhiteboxModel, "register": register_default_stat_calculators, "Dataset": Dataset,
             "Environment": BuilderEnvironmentStatCalculator, "GenerationParameters": GenerationParameters,
             "UEManager": UEManager}, est, "")


def build(args: argparse.Namespace) -> tuple[dict[str, Any], list[harness.Comparison]]:
    """The pipeline rows, then one row per estimator on shared evidence."""
    engine, lm = workload.load(args)
    lmp, est, missing = import_polygraph()
    k, n = args.samples, args.new_tokens

    def sequence(methods: list[str]) -> SequenceRequest:
        return SequenceRequest(text=TextRequest(model=lm.spec.id, prompt=QUESTION, max_new_tokens=n), methods=methods,
                               samples=k, sample_temperature=SAMPLE_TEMPERATURE,
                               embedding_model=DEFAULT_EMBEDDING_MODEL, meaning_model=DEFAULT_EMBEDDING_MODEL)

    def uqlens(methods: list[str]) -> Callable[[], SequenceAnalysis]:
        return lambda: engine.analyze_sequence(sequence(methods))

    def polygraph(*names: str, **kwargs: Any) -> Optional[Callable[[], Any]]:
        return manager_run(lmp, lm, lambda: [getattr(est, name)() for name in names], [QUESTION], new_tokens=n,
                           **kwargs) if est is not None else None

    comparisons = [
        harness.Comparison("greedy answer + 3 generation scores", PEER, uqlens(GENERATION),
                           polygraph("MaximumSequenceProbability", "Perplexity", "MeanTokenEntropy"),
                           generation_difference, unavailable=missing,
                           note="-log p, log perplexity and mean entropy when the greedy ids match (lm-polygraph "
                                "forbids the end token in the first 2 steps: min_new_tokens=2)"),
        harness.Comparison("greedy answer + 3 generation scores", PEER + " defaults", uqlens(GENERATION),
                           polygraph("MaximumSequenceProbability", "Perplexity", "MeanTokenEntropy", light=False),
                           generation_difference, unavailable=missing,
                           note="lm-polygraph's default stat calculators also collect every step's attentions and "
                                "hidden states (as estimate_uncertainty does)"),
        harness.Comparison(f"{k} samples + predictive entropy + lexical sim.", PEER,
                           uqlens(["predictive_entropy", "lexical_similarity"]),
                           polygraph("MonteCarloSequenceEntropy", "LexicalSimilarity", samples=k), unavailable=missing,
                           note=f"temperature {SAMPLE_TEMPERATURE}, full distribution; UQ Lens draws the samples in "
                                f"one batched generate call, lm-polygraph in {k} calls; each tool draws its own "
                                f"samples, so values are compared below on shared samples"),
        harness.Comparison(f"{k} samples + meaning methods", PEER, uqlens(MEANING), None,
                           unavailable=missing or HUB_NLI),
        harness.Comparison(f"{k} samples + SAR", PEER, uqlens(["sar"]), None, unavailable=missing or HUB_CROSS_ENCODER),
        harness.Comparison(f"{k} samples + KLE and CoCoA", PEER, uqlens(["kle", "cocoa"]), None,
                           unavailable=missing or HUB_KLE_COCOA),
    ]
    request = sequence(list(dict.fromkeys(name for name, *_ in estimator_pairs(est)))) if est is not None \
        else sequence(GENERATION)
    analysed, evidence = workload.gathered(engine, request)
    stats = polygraph_stats(evidence, request.similarity_threshold, [t.text for t in analysed.tokens]) \
        if est is not None else {}
    for name, estimator, convert, note in estimator_pairs(est) if est is not None else []:
        spec = METHODS.get(name)
        comparisons.append(harness.Comparison(
            f"{name}, same evidence", getattr(estimator, "bench_label", str(estimator)),
            lambda spec=spec: run_method(spec, evidence, {}),
            lambda estimator=estimator: estimator(stats),
            lambda uq, theirs, convert=convert: harness.agreement(convert(uq), float(theirs[0])),
            note=note, memory=False, repeats=max(args.repeats, 20)))
    context = {"model": lm.spec.id, "device": lm.device, "dtype": str(lm.model.dtype), "question": QUESTION,
               "max_new_tokens": n, "samples": k, "sample_temperature": SAMPLE_TEMPERATURE,
               "shared_evidence": {"answer_tokens": len(evidence.logprobs), "sample_texts": evidence.sample_texts,
                                   "clusters": evidence.clusters}}
    return context, comparisons



if __name__ == "__main__":
    sys.exit(harness.main(__doc__, build, ("--new-tokens", 16, "largest answer and sample, in tokens"),
                          ("--samples", 8, "K sampled answers")))
