"""The attention-based sequence methods, RAUQ and UQAC: their registry entries and their evidence gatherer.

Both need attention weights, so only models loaded in UQ Lens's process run them (the capability "attention");
a served model greys them out with the reason (backend.schemas.sequence.CAPABILITY_NEEDS). The numbers come from
backend.analyses.attention_uq; the attention pieces from backend.sequence.attention_evidence, chunk by chunk.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Mapping

from backend.analyses import attention_uq as auq
from backend.analyses.evidence import Evidence
from backend.parameters import Parameter
from backend.sequence.attention_evidence import attention_evidence
from backend.sequence.method_spec import MethodResult, MethodSpec

if TYPE_CHECKING:
    from backend.sequence.pipeline import SequenceRun

ATTENTION_METHODS = ("rauq", "uqac")
ATTENTION_COST = ("one more pass over prompt + answer with attention weights, read in chunks (memory linear in the "
                  "answer's length)")


def _attention(ev: Evidence) -> auq.AttentionEvidence:
    if ev.attention is None:
        raise ValueError("no attention weights were read")
    return ev.attention


def _rauq(ev: Evidence, params: Mapping[str, float]) -> MethodResult:
    found = auq.rauq(ev.logprobs, _attention(ev).prev, params["alpha"])
    layers = sorted(found["heads"])  # lists, not {layer: ...}: JSON keeps them as they are
    return MethodResult(found["value"], 1.0 - math.exp(1.0 - found["value"]), {
        "layer": found["layer"], "layers": layers, "heads": [found["heads"][l] for l in layers],
        "per_layer": [found["per_layer"][l] for l in layers],
        "confidence": found["confidence"], "alpha": params["alpha"],
        "peak_attention_bytes": _attention(ev).peak_bytes})


def _uqac(ev: Evidence, params: Mapping[str, float]) -> MethodResult:
    found = auq.uqac(ev.logprobs, _attention(ev), int(params["answer_tokens"]), params["threshold"])
    return MethodResult(found["value"], found["value"], {
        key: found[key] for key in ("chain", "weights", "answer_span", "chain_probs", "answer_probability")})


def gather_attention(run: "SequenceRun") -> None:
    """The attention evidence of the run's answer (in-process model)."""
    run.evidence.attention = attention_evidence(run.models.lm, run.text.ids, run.text.answer_start)


RAUQ = MethodSpec(
    "rauq", "RAUQ", "generation",
    "Recurrent attention-based uncertainty: in each middle layer the head that looks most at the previous token "
    "carries each token's confidence forward, c_j = a p_j + (1 - a) attn_j c_(j-1); 1 - mean ln c, worst layer.",
    "Vazhentsev et al., Uncertainty-Aware Attention Heads: Efficient Unsupervised Uncertainty Quantification for "
    "LLMs (RAUQ, 2025)", "uncertain", "[1, inf)", "1 - exp(1 - value): 1 - geometric-mean recurrent confidence",
    ATTENTION_COST, ("generation", "attention"), _rauq,
    (Parameter("alpha", "RAUQ alpha", "weight of the token's own probability against the attention-carried "
               "confidence (lm-polygraph: 0.5 for instruction-tuned models, 0.2 for base models)", "float", 0.5,
               minimum=0.0, maximum=1.0),))

UQAC = MethodSpec(
    "uqac", "UQAC attention chain", "generation",
    "For answers that reason before they conclude: the tokens the final answer attends to, followed back through "
    "the reasoning, form a chain; the confidence is the product of the chain tokens' probabilities.",
    "Li et al., Language Model Uncertainty Quantification with Attention Chain (UQAC, 2025)", "confident",
    "[0, 1]", "already in [0, 1]", ATTENTION_COST, ("generation", "attention"), _uqac,
    (Parameter("answer_tokens", "Final-answer tokens", "the answer's last content tokens the chain starts from",
               "int", 3, minimum=1, maximum=64),
     Parameter("threshold", "Backtracking threshold", "a token joins the chain below this summed attention only "
               "while the chain is short", "float", 0.1, minimum=0.0, maximum=1.0)))
