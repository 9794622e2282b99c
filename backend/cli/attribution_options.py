"""Options of `python -m backend text` for attention and saliency: --attention, --saliency METHOD, --target,
--ig-steps, --baseline, --ablate, --normalisation.

Both describe exactly the analysed ids (TextAnalysis.ids, answer_start). With --json the printed object gains
"attention" (the rollout and the last layer's head-mean rows of the answer tokens, with the tokens) and
"saliency" (per answer token, scores over the tokens before it, with the method, target and normalisation named).
"""
from __future__ import annotations

import argparse
from typing import Any, Optional

from backend.clients.local import Client
from backend.schemas import TextAnalysis
from backend.schemas.text_attention import InputToken, TextAttention, TextAttentionRequest
from backend.schemas.text_saliency import TextSaliency, TextSaliencyRequest

TOP_INPUTS = 3


def add_attribution_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the attention and saliency options on the text command."""
    group = parser.add_argument_group("attention and saliency")
    group.add_argument("--attention", action="store_true",
                       help="add the answer tokens' attention rows (rollout and last-layer head mean)")
    group.add_argument("--saliency", metavar="METHOD", help="gradient_norm, input_x_gradient, integrated_gradients, "
                                                            "occlusion or attention")
    group.add_argument("--target", default="logprob", help="what saliency explains: logprob, alternative, contrast "
                                                           "(vs. the runner-up token) or entropy")
    group.add_argument("--ig-steps", type=int, help="integrated gradients: points on the path (default 32)")
    group.add_argument("--baseline", help="integrated gradients / occlusion: content_space (default), content_zero, "
                                          "prompt_space (the answer kept, as captum) or all_pad")
    group.add_argument("--ablate", help="occlusion: prompt (default: the prompt's tokens only, as captum) or "
                                        "prompt_and_answer (also the answer's earlier tokens, one more pass each)")
    group.add_argument("--normalisation", default="max_abs", help="saliency rows: max_abs (default), l1 or none")


def saliency_request(args: argparse.Namespace, analysis: TextAnalysis) -> Optional[TextSaliencyRequest]:
    """The saliency request the options describe for an analysis, or None without --saliency."""
    if args.saliency is None:
        return None
    parameters: dict[str, Any] = {}
    if args.ig_steps is not None:
        parameters["steps"] = args.ig_steps
    if args.baseline is not None:
        parameters["baseline"] = args.baseline
    if args.ablate is not None:
        parameters["ablate"] = args.ablate
    return TextSaliencyRequest(model=analysis.model, ids=analysis.ids, answer_start=analysis.answer_start,
                               method=args.saliency, target=args.target, temperature=analysis.temperature,
                               parameters=parameters, normalisation=args.normalisation)


def attribution_results(client: Client, args: argparse.Namespace, analysis: TextAnalysis
                        ) -> tuple[Optional[TextAttention], Optional[TextSaliency]]:
    """Attention and saliency of the analysed ids, each only when its option was given."""
    attention = client.text_attention(TextAttentionRequest(model=analysis.model, ids=analysis.ids,
                                                           answer_start=analysis.answer_start)) \
        if args.attention else None
    request = saliency_request(args, analysis)
    return attention, client.text_saliency(request) if request else None


def attribution_json(attention: Optional[TextAttention], saliency: Optional[TextSaliency]) -> dict[str, Any]:
    """The keys added to the printed JSON object: "attention" and / or "saliency"."""
    keys: dict[str, Any] = {}
    if attention is not None:
        keys["attention"] = attention.model_dump(mode="json", exclude={"view"})
    if saliency is not None:
        keys["saliency"] = saliency.model_dump(mode="json")
    return keys


def attribution_table(attention: Optional[TextAttention], saliency: Optional[TextSaliency]) -> str:
    """Human-readable lines: per answer token, the input tokens it attends to most / that drive it most."""
    lines: list[str] = []
    if attention is not None:
        lines += ["", f"attention rollout ({attention.n_layers} layers x {attention.n_heads} heads): top earlier "
                      f"tokens of each answer token's producing step"]
        for offset, row in enumerate(attention.rollout):
            position = attention.answer_start + offset
            lines.append(f"{position:>5} {attention.tokens[position].text!r:<16} " + _top(row, attention.tokens))
    if saliency is not None:
        lines += ["", f"saliency: {saliency.method_label}, target {saliency.target_label}, normalised "
                      f"{saliency.normalisation} ({saliency.normalisation_description})"]
        for row in saliency.rows:
            delta = "" if row.convergence_delta is None else f"  delta {row.convergence_delta:+.3f}"
            lines.append(f"{row.position:>5} {row.text!r:<16} " + _top(row.scores, saliency.tokens) + delta)
    return "\n".join(lines)


def _top(scores: list[float], tokens: list[InputToken]) -> str:
    """The TOP_INPUTS positions with the largest |score|, as "'text' score" pairs."""
    order = sorted(range(len(scores)), key=lambda i: -abs(scores[i]))[:TOP_INPUTS]
    return ", ".join(f"{tokens[i].text!r} {scores[i]:+.3f}" for i in order)
