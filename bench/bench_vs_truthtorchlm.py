"""UQ Lens's sequence-level methods against TruthTorchLM's truth methods, on the same model and the same samples.

    make truthtorch-venv   # once: .venv-truthtorch, TruthTorchLM in its own venv
    .venv-bench/bin/python bench/bench_vs_truthtorchlm.py [--new-tokens 16] [--samples 8] [--repeats 3]
        [--model ID] [--device cpu|cuda] [--threads N] [--out FILE]

TruthTorchLM (0.1.19) pulls LiteLLM, wandb, outlines, instructor, evaluate and datasets and, unpinned, the newest
transformers and sentence-transformers, so it runs in its own venv, .venv-truthtorch (bench/requirements-
truthtorch.txt): this script (in .venv-bench) gathers UQ Lens's evidence for a chat-template question (greedy answer
of at most --new-tokens tokens, --samples samples at temperature 0.7, meaning by UQ Lens's embedding rule), writes it
as JSON and starts bench/truthtorch_worker.py under .venv-truthtorch, which loads the same local model folder and
times TruthTorchLM's methods in its own process (bench/peer_protocol.py). Rows:
  - whole pipelines on the local model: UQ Lens's Engine.analyze_sequence against TruthTorchLM's
    generate_with_truth_value (greedy answer, K samples, predictive entropy, P(True), verbalized confidence), each
    drawing its own samples; its meaning methods load microsoft/deberta-large-mnli from the Hugging Face hub, which
    this machine cannot reach;
  - TruthTorchLM's truth methods fed UQ Lens's evidence: the K samples and their token log-probabilities (its
    sampled_generations_dict), and an NLI stand-in that answers with UQ Lens's own same-meaning decisions and
    affinities (bench/truthtorch_feed.py), so that values agree wherever the definitions do;
  - P(True) and verbalized confidence: one forward pass / one short generate call each on the local model, with
    each tool's own prompt (values differ by prompt: timed only, both values in the JSON).
Prints a table and writes JSON (artifacts/bench/bench_vs_truthtorchlm.json).
"""
from __future__ import annotations

import argparse
import sys
from typing import Any, Callable, Optional

import harness
import workload
from external_rows import External, close_values, main, scalar, start_peer
from peer_protocol import PeerProcess
from truthtorch_feed import truthtorch_semantic_entropy
from backend.analyses.evidence import VERBALIZED_MAX_NEW_TOKENS, Evidence
from backend.analyses.meaning_graph import ECCENTRICITY_EIGENVALUE_THRESHOLD
from backend.engine import Engine
from backend.models.pool import default_cache_dir
from backend.models.text_loader import prepare_text_model
from backend.schemas import DEFAULT_EMBEDDING_MODEL, SequenceRequest, TextRequest
from backend.schemas.text import TextAnalysis
from backend.sequence.evidence import meaning_by_embedding
from backend.sequence.method_spec import MethodResult, run_method
from backend.sequence.methods import METHODS
from backend.sequence.pipeline import GATHERERS, SequenceModels, SequenceRun

PEER = "TruthTorchLM"
QUESTION = "Name a famous scientist and say what they discovered."
SAMPLE_TEMPERATURE = 0.7
NLI_TEMPERATURE = 3.0  # TruthTorchLM's default temperature of the NLI softmax (affinity methods)
PIPELINE = ["predictive_entropy", "p_true", "verbalized_confidence"]
FED = ["predictive_entropy", "semantic_entropy", "num_semantic_sets", "eigv", "degree", "eccentricity",
       "lexical_similarity", "p_true", "verbalized_confidence"]
HUB_NLI = ("TruthTorchLM's SemanticEntropy, NumSemanticSetUncertainty, SumEigenUncertainty (EigV), "
           "MatrixDegreeUncertainty and EccentricityUncertainty load microsoft/deberta-large-mnli from the Hugging "
           "Face hub when given no NLI model, which this machine cannot reach; the rows below feed them UQ Lens's "
           "samples and meaning decisions")
NO_LEXICAL = ("TruthTorchLM 0.1.19 has no lexical-similarity truth method (ROUGE is there only as a correctness "
              "evaluator against a reference answer)")


def fed_evidence(request: SequenceRequest, text: TextAnalysis, evidence: Evidence, same: Any, model_path: str
                 ) -> dict[str, Any]:
    """What bench/truthtorch_worker.py is fed: the question, UQ Lens's answer and model input, its K samples with
    their token log-probabilities (nats), its same-meaning matrix (K, K) and affinity (K, K), and the settings."""
    return {"question": QUESTION, "answer": text.generated_text, "model_input": text.model_input,
            "sample_texts": list(evidence.sample_texts or []),
            "sample_token_logprobs": [list(lps) for lps in evidence.sample_token_logprobs or []],
            "same_meaning": same.tolist(), "affinity": evidence.affinity.tolist(), "nli_temperature": NLI_TEMPERATURE,
            "eccentricity_threshold": ECCENTRICITY_EIGENVALUE_THRESHOLD, "model_path": model_path,
            "verbalized_max_new_tokens": VERBALIZED_MAX_NEW_TOKENS, "max_new_tokens": request.text.max_new_tokens,
            "sample_temperature": SAMPLE_TEMPERATURE, "seed": request.text.seed}


def method(name: str, evidence: Evidence) -> Callable[[], MethodResult]:
    """UQ Lens's method function on the shared evidence, as one call."""
    spec = METHODS.get(name)
    return lambda: run_method(spec, evidence, {})


def asked(engine: Engine, request: SequenceRequest, text: TextAnalysis, evidence: Evidence, gather: str,
          name: str) -> Callable[[], MethodResult]:
    """UQ Lens asking the model (the gatherer of P(True) or verbalized confidence: one forward pass or one short
    generate call), then the method, as one call on the analysed answer."""
    models = SequenceModels(lm=engine.text_model(request.text.model),
                            embedder=engine.embedding_model(request.embedding_model), nli=None,
                            meaning=engine.meaning_source(request))

    def run() -> MethodResult:
        GATHERERS[gather](SequenceRun(models, request, text, evidence))
        return run_method(METHODS.get(name), evidence, {})
    return run


def value_rows(evidence: Evidence, repeats: int, unavailable: str) -> list[External]:
    """One row per truth method with a UQ Lens counterpart, both fed the same samples and meaning decisions."""
    clusters = evidence.clusters or []
    same_definition = "same definition"

    def row(name: str, peer_op: str, label: str, difference: Callable[[MethodResult, Any], harness.Agreement],
            note: str) -> External:
        return External(f"{name}, same evidence", label, method(name, evidence), peer_op, difference, note=note,
                        unavailable=unavailable, repeats=max(repeats, 20))

    return [
        row("predictive_entropy", "predictive_entropy", "Entropy(LogProbScoring)",
            lambda r, t: harness.agreement(r.value, scalar(t)),
            same_definition + ": -mean over the K samples of their summed token log-probabilities (TruthTorchLM's "
            "default LengthNormalizedScoring would average per token)"),
        row("semantic_entropy", "semantic_entropy", "SemanticEntropy",
            lambda r, t: close_values([truthtorch_semantic_entropy(evidence.sample_mean_logprobs, clusters),
                                       len(r.details["clusters"])], t),
            "TruthTorchLM's value is the mean over clusters of -log(sum of exp(mean token log-prob)), unnormalised "
            "(UQ Lens: Kuhn et al.'s -sum p log p over normalised cluster masses): compared as that formula on UQ "
            "Lens's clusters and sample scores (its logsumexp runs in float32), and the number of clusters (so: does "
            "it cluster as UQ Lens did)"),
        row("num_semantic_sets", "num_semantic_sets", "NumSemanticSetUncertainty",
            lambda r, t: harness.agreement(r.value, scalar(t)),
            same_definition + " (the same greedy clustering, on UQ Lens's decisions)"),
        row("eigv", "eigv", "SumEigenUncertainty", lambda r, t: harness.agreement(r.value, scalar(t)),
            same_definition + f" (its affinity: 1 - P(contradiction) at NLI temperature {NLI_TEMPERATURE:g}, here "
            "UQ Lens's affinity)"),
        row("degree", "degree", "MatrixDegreeUncertainty", lambda r, t: harness.agreement(r.value, scalar(t)),
            same_definition),
        row("eccentricity", "eccentricity", "EccentricityUncertainty",
            lambda r, t: harness.agreement(sum(r.details["distances"]), scalar(t)),
            "TruthTorchLM sums the answers' distances from the centre of their spectral embedding (eigenvalues "
            f"below {ECCENTRICITY_EIGENVALUE_THRESHOLD:g}), UQ Lens (as Lin et al. and lm-polygraph) takes their "
            "root sum of squares: compared as the sum of UQ Lens's per-answer distances (in its details)"),
        External("lexical_similarity, same evidence", PEER, method("lexical_similarity", evidence), None,
                 unavailable=unavailable or NO_LEXICAL),
    ]


def build(args: argparse.Namespace) -> tuple[dict[str, Any], list[External], Optional[PeerProcess]]:
    """The pipeline rows, the fed rows and the asked rows, and the started worker."""
    engine, lm = workload.load(args)
    k, n = args.samples, args.new_tokens

    def sequence(methods: list[str]) -> SequenceRequest:
        return SequenceRequest(text=TextRequest(model=lm.spec.id, prompt=QUESTION, max_new_tokens=n), methods=methods,
                               samples=k, sample_temperature=SAMPLE_TEMPERATURE,
                               embedding_model=DEFAULT_EMBEDDING_MODEL, meaning_model=DEFAULT_EMBEDDING_MODEL)

    request = sequence(FED)
    text, evidence = workload.gathered(engine, request)
    embedder = engine.embedding_model(DEFAULT_EMBEDDING_MODEL)
    same, _affinity = meaning_by_embedding(embedder, evidence.sample_texts or [], QUESTION,
                                           engine.meaning_source(request).threshold)
    fed = fed_evidence(request, text, evidence, same, prepare_text_model(lm.spec, default_cache_dir()))
    peer, missing = start_peer(".venv-truthtorch", "truthtorch_worker", "truthtorch-venv", fed, args.threads)
    pipeline = sequence(PIPELINE)
    rows = [
        External(f"greedy answer + {k} samples + predictive entropy, P(True), verbalized", PEER,
                 lambda: engine.analyze_sequence(pipeline), "pipeline", unavailable=missing,
                 note=f"generate_with_truth_value on the same local model: greedy answer, {k} samples at temperature "
                      f"{SAMPLE_TEMPERATURE} (batched, as UQ Lens), Entropy, PTrue and VerbalizedConfidence (at most "
                      f"{VERBALIZED_MAX_NEW_TOKENS} tokens, UQ Lens's budget); each tool draws its own samples and "
                      "asks its own prompts: no agreement"),
        External(f"{k} samples + meaning methods", PEER,
                 lambda: engine.analyze_sequence(sequence(["semantic_entropy", "eigv", "degree", "eccentricity"])),
                 None, unavailable=missing or HUB_NLI),
    ]
    rows += value_rows(evidence, args.repeats, missing)
    rows += [
        External("p_true: ask the model + method", "PTrue", asked(engine, request, text, evidence, "p_true", "p_true"),
                 "p_true", unavailable=missing,
                 note="one forward pass each; TruthTorchLM's prompt lists the K samples as brainstormed ideas and "
                      "reads the probability of its own 'true' token, UQ Lens's compares 'True' against 'False' on "
                      "a shorter prompt: timed only (both values in the JSON)"),
        External("verbalized_confidence: ask the model + method", "VerbalizedConfidence",
                 asked(engine, request, text, evidence, "verbalized", "verbalized_confidence"),
                 "verbalized_confidence", unavailable=missing,
                 note=f"one greedy generate call of at most {VERBALIZED_MAX_NEW_TOKENS} tokens each (TruthTorchLM's "
                      "default is 1024), each with its own prompt: timed only (both values in the JSON)"),
    ]
    asked_values = {name: peer.run(name)["value"] if peer else None for name in ("p_true", "verbalized_confidence")}
    context = {"model": lm.spec.id, "device": lm.device, "dtype": str(lm.model.dtype), "question": QUESTION,
               "max_new_tokens": n, "samples": k, "sample_temperature": SAMPLE_TEMPERATURE,
               "peer_version": peer.hello["version"] if peer else None, "peer_venv": ".venv-truthtorch",
               "shared_evidence": {"answer": text.generated_text, "answer_tokens": len(evidence.logprobs),
                                   "sample_texts": evidence.sample_texts, "clusters": evidence.clusters,
                                   "sample_mean_logprobs": evidence.sample_mean_logprobs,
                                   "truthtorchlm_semantic_entropy_formula": truthtorch_semantic_entropy(
                                       evidence.sample_mean_logprobs, evidence.clusters or [[0]])},
               "asked_values": {"uqlens": {"p_true": method("p_true", evidence)().value,
                                           "verbalized_confidence": method("verbalized_confidence", evidence)().value},
                                "truthtorchlm": asked_values},
               "truthtorchlm_needs_hub": HUB_NLI, "lexical_similarity": NO_LEXICAL}
    return context, rows, peer


if __name__ == "__main__":
    sys.exit(main(__doc__, build, ("--new-tokens", 16, "largest answer and sample, in tokens"),
                  ("--samples", 8, "K sampled answers")))
