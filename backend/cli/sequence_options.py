"""Options of `python -m backend text` for sequence-level methods: --methods, --samples, --sample-temperature.

With --methods the printed JSON object gains "scores" (a list of {name, label, value, normalized, higher_is,
value_range, normalization, description, details}) and "sequence" (the K samples, their meaning clusters, the
similarity graph, SAR weights and the seconds each stage took); with ccp or luq among the methods it gains "claims"
(each claim's text, character span [start, end) in the answer, token span [token_start, token_end) and scores).
--claims FILE gives the answer's claims, one per line, instead of the automatic split.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Optional

from backend.schemas import (DEFAULT_EMBEDDING_MODEL, DEFAULT_SAMPLES, DEFAULT_SIMILARITY_THRESHOLD, SequenceAnalysis,
                             SequenceRequest, TextRequest)
from backend.errors import UserInputError
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
    group.add_argument("--claims", type=Path, metavar="FILE", help="the answer's claims for ccp and luq, one per "
                                                                   "line, each a piece of the answer in order "
                                                                   "(default: sentences and clauses of long ones)")


def sequence_request(args: argparse.Namespace, text: TextRequest) -> Optional[SequenceRequest]:
    """The sequence request the options describe, or None without --methods."""
    if args.methods is None:
        return None
    methods = [name for part in args.methods for name in part.split(",")]
    return SequenceRequest(text=text, methods=methods, samples=args.samples,
                           sample_temperature=args.sample_temperature, embedding_model=args.embedding_model,
                           meaning_model=args.meaning_model, similarity_threshold=args.similarity_threshold,
                           claims=read_claims(args.claims) if getattr(args, "claims", None) else None)


def read_claims(path: Path) -> list[str]:
    """The non-empty lines of a claims file; UserInputError when it cannot be read or has none."""
    try:
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise UserInputError(f"cannot read the claims file {path}: {exc}") from exc
    if not lines:
        raise UserInputError(f"the claims file {path} has no claim: write one claim per line")
    return lines


def sequence_json(analysis: SequenceAnalysis) -> dict[str, Any]:
    """The keys added to the printed JSON object: "scores" and "sequence"."""
    rest = analysis.model_dump(mode="json", exclude={"text", "scores", "claims"})
    claims = {"claims": [c.model_dump(mode="json") for c in analysis.claims]} if analysis.claims else {}
    return {"scores": [s.model_dump(mode="json") for s in analysis.scores], **claims, "sequence": rest}


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
    return "\n".join(lines + claim_lines(analysis))


def claim_lines(analysis: SequenceAnalysis) -> list[str]:
    """One line per claim: its number, token span, scores and text (none when no claim method ran)."""
    if not analysis.claims:
        return []
    names = {"ccp": "ccp", "luq_support": "support", "mean_token_entropy": "H mean", "max_token_entropy": "H max",
             "mean_neg_logprob": "-log p"}
    lines = ["", f"{len(analysis.claims)} claims ({analysis.claims_rule})"]
    for n, claim in enumerate(analysis.claims, 1):
        scores = "  ".join(f"{names[k]} {v:.3f}" for k, v in claim.scores.items() if v is not None and k in names)
        supported = f"  {claim.supported_by}/{len(analysis.samples)} samples" if claim.supported_by is not None else ""
        lines.append(f"  {n:>3}. tokens {claim.token_start}-{claim.token_end}  {scores}{supported}  {claim.text!r}")
    return lines
