"""UQ Lens's sequence-level scores against uqlm's offline white-box and black-box scorers, on the same evidence.

    make uqlm-venv   # once: .venv-uqlm, uqlm in its own venv (its pins conflict with the app's)
    .venv-bench/bin/python bench/bench_vs_uqlm.py [--new-tokens 16] [--samples 8] [--repeats 3]
        [--model ID] [--device cpu|cuda] [--threads N] [--no-memory] [--out FILE]

uqlm (CVS Health, 0.6.x) generates through a LangChain chat model, so its whole pipeline cannot share UQ Lens's
in-process model; its scorers, though, take given evidence. UQ Lens's Engine.analyze_sequence answers the question
(greedy, at most --new-tokens tokens) and draws --samples samples at temperature 0.7; then uqlm's scorers are fed
exactly that evidence:
  - white-box (SingleLogprobsScorer, TopLogprobsScorer): the answer's token log-probabilities and its top-k
    alternatives, against UQ Lens's method functions on the same tokens;
  - black-box: CosineScorer with UQ Lens's own embedding model (all-MiniLM-L6-v2, from its local folder) on the
    answer and the K samples; MatchScorer (exact match) has no UQ Lens counterpart and is listed in the report only;
    ConsistencyScorer (non-contradiction, entailment), BertScorer and the semantic-entropy / density scorers load
    DeBERTa-large-MNLI or RoBERTa-large from the Hugging Face hub, which this machine cannot reach.
uqlm 0.6.7 pins numpy<2, pandas<3, transformers<5 and sentence-transformers<6 on Python 3.11, against the app's pins,
so it runs in its own venv, .venv-uqlm (bench/requirements-uqlm.txt): this script (in .venv-bench) gathers UQ Lens's
evidence, writes it as JSON and starts bench/uqlm_worker.py under .venv-uqlm, which times uqlm's scorers on it in its
own process and returns their values (bench/peer_protocol.py); its top-level package imports LangChain (for its
LLM-calling scorers), so the offline scorer modules are imported without running the package's __init__
(uqlm_feed.import_uqlm).
Prints a table and writes JSON (artifacts/bench/bench_vs_uqlm.json).
"""
from __future__ import annotations

import argparse
import sys
from typing import Any, Callable, Optional

import numpy as np

import harness
import workload
from external_rows import External, main, scalar, start_peer
from peer_protocol import PeerProcess
from uqlm_feed import answer_sample_cosines, cosine_in_uqlm_convention, uqlm_logprobs
from backend.analyses.evidence import Evidence
from backend.models.registry import resolve_location
from backend.schemas import DEFAULT_EMBEDDING_MODEL, SequenceRequest, TextRequest
from backend.schemas.text import TextAnalysis
from backend.sequence.method_spec import run_method
from backend.sequence.methods import METHODS

PEER = "uqlm"
QUESTION = "Name a famous scientist and say what they discovered."
SAMPLE_TEMPERATURE = 0.7
METHODS_USED = ["sequence_probability", "geometric_mean_probability", "mean_token_entropy", "predictive_entropy",
                "degree"]
HUB_ONLY = ("uqlm's ConsistencyScorer (non-contradiction, entailment), semantic entropy and semantic density load "
            "microsoft/deberta-large-mnli and BertScorer roberta-large from the Hugging Face hub, which this machine "
            "cannot reach")
LLM_PIPELINE = ("uqlm generates through a LangChain BaseChatModel (WhiteBoxUQ / BlackBoxUQ.generate_and_score), "
                "which cannot wrap UQ Lens's in-process model object; its scorers are fed UQ Lens's evidence below")


def method(name: str, evidence: Evidence) -> Callable[[], Any]:
    """UQ Lens's method function on the shared evidence, as one call."""
    spec = METHODS.get(name)
    return lambda: run_method(spec, evidence, {})


def uqlm_evidence(text: TextAnalysis, evidence: Evidence, embedder_path: str) -> dict[str, Any]:
    """What bench/uqlm_worker.py is fed: the answer's tokens in uqlm's format (with the top-k alternatives), the
    answer and the K samples, and UQ Lens's embedding-model folder."""
    return {"tokens": uqlm_logprobs(evidence.logprobs),
            "tokens_with_alternatives": uqlm_logprobs(evidence.logprobs, [[a.prob for a in t.top_k]
                                                                           for t in text.tokens]),
            "top_k": len(text.tokens[0].top_k) if text.tokens else 1, "answer": text.generated_text,
            "sample_texts": list(evidence.sample_texts or []), "embedder_path": embedder_path}


def same_evidence_rows(text: TextAnalysis, evidence: Evidence, embed: Callable[[list[str]], Any], k_top: int,
                       repeats: int, unavailable: str) -> list[External]:
    """One row per uqlm scorer with a UQ Lens counterpart, both fed the same answer and samples."""
    answer, samples = text.generated_text, list(evidence.sample_texts or [])

    def row(operation: str, ours: Callable[[], Any], peer_op: str,
            difference: Optional[Callable[[Any, Any], harness.Agreement]], note: str, label: str) -> External:
        return External(f"{operation}, same evidence", label, ours, peer_op, difference, note=note,
                        unavailable=unavailable, repeats=max(repeats, 20))

    return [
        row("sequence_probability", method("sequence_probability", evidence), "sequence_probability",
            lambda r, t: harness.agreement(r.value, scalar(t)),
            "same definition: the product of the token probabilities, end token included (uqlm with "
            "length_normalize=False)", "SingleLogprobsScorer, length_normalize=False"),
        row("geometric_mean_probability", method("geometric_mean_probability", evidence),
            "geometric_mean_probability", lambda r, t: harness.agreement(r.value, scalar(t)),
            "uqlm's default 'sequence_probability' is length-normalised, exp(mean log p): UQ Lens's geometric-mean "
            "probability, not its sequence probability", "SingleLogprobsScorer (default)"),
        row("min token probability", lambda: float(np.exp(np.min(evidence.logprobs))), "min_probability",
            lambda r, t: harness.agreement(r, scalar(t)),
            "UQ Lens has no such method (the Text page colours every token's probability): compared with the "
            "smallest of UQ Lens's token probabilities", "SingleLogprobsScorer min_probability"),
        row("probability margin", lambda: float(np.mean([t.margin for t in text.tokens])), "probability_margin",
            lambda r, t: harness.agreement(r, scalar(t)),
            f"uqlm's mean p1 - p2 from the top-{k_top} alternatives, against the mean of UQ Lens's exact per-token "
            "margins (no sequence method); uqlm's evaluate computes its three top-k scores in every call",
            "TopLogprobsScorer probability_margin"),
        row("mean_token_entropy", method("mean_token_entropy", evidence), "mean_token_negentropy", None,
            f"timed only: uqlm's negentropy is 1 - H / ln k of the top-{k_top} probabilities renormalised, UQ Lens's "
            "the exact entropy of the whole vocabulary (normalised by ln V)",
            "TopLogprobsScorer mean_token_negentropy"),
        row(f"answer vs {len(samples)} samples, cosine", lambda: answer_sample_cosines(embed([answer] + samples)),
            "cosine", lambda r, t: harness.agreement(cosine_in_uqlm_convention(r), float(np.mean(t))),
            "both embed the answer and the K samples with the same all-MiniLM-L6-v2 folder; uqlm scores "
            "mean(0.5 + cos / 2), UQ Lens has no answer-vs-samples method (its degree compares samples with each "
            "other, negatives clipped to 0): compared in uqlm's convention; UQ Lens embeds K+1 texts in one "
            "call, uqlm 2K in two; timed: _compute_score, as evaluate also sleeps 0.1 s",
            "CosineScorer, UQ Lens's embedder"),
    ]


def build(args: argparse.Namespace) -> tuple[dict[str, Any], list[External], Optional[PeerProcess]]:
    """The pipeline row (UQ Lens only), then one row per uqlm scorer on shared evidence, and the started worker."""
    engine, lm = workload.load(args)
    request = SequenceRequest(text=TextRequest(model=lm.spec.id, prompt=QUESTION, max_new_tokens=args.new_tokens),
                              methods=METHODS_USED, samples=args.samples, sample_temperature=SAMPLE_TEMPERATURE,
                              embedding_model=DEFAULT_EMBEDDING_MODEL, meaning_model=DEFAULT_EMBEDDING_MODEL)
    text, evidence = workload.gathered(engine, request)
    embedder = engine.embedding_model(DEFAULT_EMBEDDING_MODEL)
    fed = uqlm_evidence(text, evidence, str(resolve_location(embedder.spec.location)))
    peer, missing = start_peer(".venv-uqlm", "uqlm_worker", "uqlm-venv", fed, args.threads)
    rows = [External(f"greedy answer + {args.samples} samples + {len(METHODS_USED)} methods", PEER,
                     lambda: engine.analyze_sequence(request), None,
                     unavailable=missing or f"{LLM_PIPELINE}; {HUB_ONLY}")]
    rows += same_evidence_rows(text, evidence, embedder.embed, fed["top_k"], args.repeats, missing)
    samples = fed["sample_texts"]
    context = {"model": lm.spec.id, "device": lm.device, "dtype": str(lm.model.dtype), "question": QUESTION,
               "max_new_tokens": args.new_tokens, "samples": args.samples, "sample_temperature": SAMPLE_TEMPERATURE,
               "peer_version": peer.hello["version"] if peer else None, "peer_venv": ".venv-uqlm",
               "shared_evidence": {"answer": text.generated_text, "answer_tokens": len(evidence.logprobs),
                                   "sample_texts": samples},
               "uqlm_offline_without_counterpart": {
                   "MatchScorer": peer.run("match")["value"] if peer and samples else None,
                   "exact_match_check": float(np.mean([s == text.generated_text for s in samples])) if samples
                   else None},
               "uqlm_needs_hub": HUB_ONLY}
    return context, rows, peer


if __name__ == "__main__":
    sys.exit(main(__doc__, build, ("--new-tokens", 16, "largest answer and sample, in tokens"),
                  ("--samples", 8, "K sampled answers")))
