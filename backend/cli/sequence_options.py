"""Options of `python -m backend text` for sequence-level methods: --methods, --samples, --sample-temperature.

With --methods the printed JSON object gains "scores" (a list of {name, label, value, normalized, higher_is,
value_range, normalization, description, details}) and "sequence" (the K samples, their meaning clusters, the
similarity graph, SAR weights and the seconds each stage took).
"""
from __future__ import annotations

import argparse
from typing import Any, Optional

from backend.schemas import (DEFAULT_EMBEDDING_MODEL, DEFAULT_SAMPLES, DEFAULT_SIMILARITY_THRESHOLD, SequenceAnalysis,
                             SequenceRequest, TextRequest)
from backend.schemas.sequence import DEFAULT_SAMPLE_TEMPERATURE


def add_sequence_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the sequence-method options on the text command."""
    group = parser.add_argument_group("sequence-level uncertainty")
    group.add_argument("--methods", nargs="+", help="method names, separated by spaces or commas (kle cocoa, or "
                                                    "kle,cocoa), or 'all' (see the Sequence uncertainty page or "
                                                    "backend.sequence.methods)")
    group.add_argument("--samples", type=int, default=DEFAULT_SAMPLES, help="K sampled answers for sample methods")
    group.add_argument("--sample-temperature", type=float, default=DEFAULT_SAMPLE_TEMPERATURE,
                       help="temperature of the K samples and of their probabilities")
    group.add_argument("--embedding-model", default=DEFAULT_EMBEDDING_MODEL, help="sentence-embedding model id")
    group.add_argument("--meaning-model", help="NLI or embedding model deciding which answers mean the same "
                                               "(default: the first registered NLI model, else the embedding model)")
    group.add_argument("--similarity-threshold", type=float, default=DEFAULT_SIMILARITY_THRESHOLD,
                       help="affinity at or above which the embedding model counts two answers as one meaning (1 when "
                            "one only adds words to the other, else the cosine of what they add to the question)")


def sequence_request(args: argparse.Namespace, text: TextRequest) -> Optional[SequenceRequest]:
    """The sequence request the options describe, or None without --methods."""
    if args.methods is None:
        return None
    methods = [name for part in args.methods for name in part.split(",")]
    return SequenceRequest(text=text, methods=methods, samples=args.samples,
                           sample_temperature=args.sample_temperature, embedding_model=args.embedding_model,
                           meaning_model=args.meaning_model, similarity_threshold=args.similarity_threshold)


def sequence_json(analysis: SequenceAnalysis) -> dict[str, Any]:
    """The keys added to the printed JSON object: "scores" and "sequence"."""
    rest = analysis.model_dump(mode="json", exclude={"text", "scores"})
    return {"scores": [s.model_dump(mode="json") for s in analysis.scores], "sequence": rest}


def sequence_table(analysis: SequenceAnalysis) -> str:
    """Human-readable lines: the samples with their clusters, then one line per score."""
    lines = ["", f"{len(analysis.samples)} samples at temperature {analysis.sample_temperature:g}"
             + (f"; meaning by {analysis.meaning.kind} model {analysis.meaning.model}" if analysis.meaning else "")]
    lines += [f"  [{s.cluster:>2}] log p {s.logprob:>9.3f}  {s.text!r}" for s in analysis.samples]
    lines += ["", f"{'score':<34} {'value':>12} {'normalized':>11}  higher ="]
    for score in analysis.scores:
        value = "-" if score.value is None else f"{score.value:.4g}"
        normalized = "-" if score.normalized is None else f"{score.normalized:.3f}"
        note = f"  ({score.details['error']})" if "error" in score.details else ""
        lines.append(f"{score.label:<34} {value:>12} {normalized:>11}  more {score.higher_is}{note}")
    return "\n".join(lines)
