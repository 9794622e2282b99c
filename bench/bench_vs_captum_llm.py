"""UQ Lens against captum's LLM attribution (LLMAttribution, LLMGradientAttribution) on the same model and answer,
in one run: occlusion, input x gradient and integrated gradients of every answer token.

    .venv-bench/bin/python bench/bench_vs_captum_llm.py [--tokens 16] [--ig-steps 8] [--repeats 3]
        [--model ID] [--device cpu|cuda] [--threads N] [--no-memory] [--out FILE]
        [--memory-budget-mib 1024 256 64] [--ig-uq-steps 4 6]

The prompt and a fixed answer of --tokens tokens are scored without the chat template (same ids on both sides).
UQ Lens: Engine.text_saliency, every answer token from shared batched passes, over every earlier token (prompt and
answer; occlusion by default ablates the prompt's tokens only, as captum, and a second row also the answer's).
captum 0.9: TextTokenInput(prompt, baselines=the padding id) with the answer as the target; its token_attr
(answer tokens x prompt tokens) covers the prompt tokens only, so agreement is measured on the prompt columns.
  - FeatureAblation through LLMAttribution: one pass per prompt token; captum's default forward re-runs the answer
    token by token with a KV cache, forward_in_tokens=False scores the answer in one pass (both are timed);
  - LayerGradientXActivation and LayerIntegratedGradients on the input embeddings through LLMGradientAttribution:
    one attribution call (forward and backward passes over prompt + answer prefix) per answer token.
captum's integrated-gradients path runs from (prompt as padding, answer prefix kept) to the input, UQ Lens's
all_pad path replaces the answer prefix too (same cost); the agreement row therefore runs UQ Lens's own
integrated_gradients function on captum's path. The integrated-gradients row states each side's relative
convergence delta on its own path (f at captum's baseline computed here); --memory-budget-mib adds UQ Lens's
gradient methods at smaller memory budgets and --ig-uq-steps its integrated gradients at other steps, each set
against captum's row. Prints a table and writes JSON (artifacts/bench/bench_vs_captum_llm.json).
"""
from __future__ import annotations

import argparse
import sys
from typing import Any, Callable

import torch

import harness
import saliency_rows
import workload
from backend.analyses.text_saliency import integrated_gradients
from backend.models.text_loader import LoadedTextModel
from backend.schemas import TextAnalysis
from backend.schemas.text_saliency import TextSaliency, TextSaliencyRequest
from backend.text.saliency import all_pad_id
from backend.text.saliency_budget import budget_bytes, chunk_sizes

PEER = "captum LLM attribution"


def prompt_columns(uq: TextSaliency, token_attr: torch.Tensor) -> harness.Agreement:
    """Agreement of UQ Lens's rows and captum's token_attr (answer tokens, prompt tokens) on the prompt columns."""
    prompt = token_attr.shape[1]
    return harness.worst(harness.agreement(row.scores[:prompt], token_attr[n]) for n, row in enumerate(uq.rows))


def logprob_scores(lm: LoadedTextModel, ids: list[int], positions: list[int]) -> Callable[[torch.Tensor], torch.Tensor]:
    """score_fn of backend.analyses.text_saliency for the logprob target: embeddings (B, T, D) -> (B, N) log p of
    the token at each of the N positions, each read from the logits of the position before it (as
    Engine.text_saliency computes it)."""
    rows = torch.tensor(positions, device=lm.device) - 1
    chosen = torch.tensor(ids, device=lm.device)[rows + 1]

    def score_fn(x: torch.Tensor) -> torch.Tensor:
        mask = torch.ones(x.shape[:2], dtype=torch.long, device=x.device)
        logits = lm.model(inputs_embeds=x, attention_mask=mask, logits_to_keep=rows).logits.float()
        return torch.log_softmax(logits, dim=-1).gather(-1, chosen[None, :, None].expand(x.shape[0], -1, 1))[..., 0]
    return score_fn


def captum_path(lm: LoadedTextModel, analysis: TextAnalysis) -> tuple[torch.Tensor, torch.Tensor]:
    """(input embeddings, captum's baseline: the prompt's tokens as padding, the answer kept), each (T, D)."""
    ids = torch.tensor(analysis.ids, device=lm.device)
    embed = lm.model.get_input_embeddings()
    prompt = torch.arange(len(analysis.ids), device=lm.device) < analysis.answer_start
    with torch.no_grad():
        return embed(ids), embed(torch.where(prompt, torch.full_like(ids, all_pad_id(lm)), ids))


def answer_positions(analysis: TextAnalysis) -> list[int]:
    """The positions of every answer token."""
    return list(range(analysis.answer_start, len(analysis.ids)))


def uqlens_ig_on_captum_path(lm: LoadedTextModel, analysis: TextAnalysis, steps: int) -> torch.Tensor:
    """(N, T) UQ Lens's integrated gradients from (prompt tokens as padding, answer kept) to the input."""
    embeddings, baseline = captum_path(lm, analysis)
    chunk, _ = chunk_sizes(lm, len(analysis.ids), budget_bytes(lm.device))
    return integrated_gradients(logprob_scores(lm, analysis.ids, answer_positions(analysis)), embeddings, baseline,
                                steps=steps, alpha_batch=steps, chunk=chunk).scores


def captum_deltas(lm: LoadedTextModel, analysis: TextAnalysis) -> Callable[[TextSaliency, Any], list[float]]:
    """captum's relative convergence delta of each answer token on its own path: its token_attr row summed (the
    answer prefix, kept in its baseline, has no attribution) against f(input) - f(captum's baseline)."""
    def deltas(_uq: TextSaliency, result: Any) -> list[float]:
        embeddings, baseline = captum_path(lm, analysis)
        with torch.no_grad():
            ends = logprob_scores(lm, analysis.ids, answer_positions(analysis))(torch.stack([embeddings, baseline]))
        return saliency_rows.relative_deltas(result.token_attr.sum(dim=1).tolist(), (ends[0] - ends[1]).tolist())
    return deltas


def ig_difference(lm: LoadedTextModel, analysis: TextAnalysis, steps: int) -> Callable[[Any, Any], harness.Agreement]:
    """Agreement of captum's integrated gradients with UQ Lens's on captum's path (prompt columns)."""
    def difference(_uq: TextSaliency, result: Any) -> harness.Agreement:
        prompt = result.token_attr.shape[1]
        return harness.agreement(uqlens_ig_on_captum_path(lm, analysis, steps)[:, :prompt], result.token_attr)
    return difference


def saliency_refusal(captum_attr: Any, lm: LoadedTextModel) -> str:
    """Why LLMGradientAttribution cannot give the gradient L2 norm (it refuses captum's Saliency)."""
    try:
        captum_attr.LLMGradientAttribution(captum_attr.Saliency(lm.model), lm.tokenizer)
    except (AssertionError, TypeError, ValueError) as exc:
        supported = ", ".join(m.__name__ for m in captum_attr.LLMGradientAttribution.SUPPORTED_METHODS)
        return (f"LLMGradientAttribution refuses Saliency ({type(exc).__name__}); it accepts only {supported}, "
                f"none of which gives the gradient L2 norm")
    return ""


def build(args: argparse.Namespace) -> tuple[dict[str, Any], list[harness.Comparison]]:
    """Occlusion (two captum forwards), input x gradient, integrated gradients and the gradient norm."""
    engine, lm = workload.load(args)
    analysis = workload.scored_answer(engine, lm, args.tokens)
    answer = workload.fixed_answer(lm, args.tokens)
    captum_attr, missing = harness.import_peer("captum.attr")
    context = {"model": lm.spec.id, "device": lm.device, "dtype": str(lm.model.dtype),
               "input_tokens": analysis.answer_start, "answer_tokens": len(analysis.tokens), "ig_steps": args.ig_steps}

    def request(method: str, **parameters: Any) -> TextSaliencyRequest:
        return TextSaliencyRequest(model=lm.spec.id, ids=analysis.ids, answer_start=analysis.answer_start,
                                   method=method, parameters=parameters, normalisation="none")

    def uqlens(method: str, **parameters: Any) -> Callable[[], TextSaliency]:
        return lambda: engine.text_saliency(request(method, **parameters))

    def captum(kind: str, method: str, **kwargs: Any) -> Any:
        if captum_attr is None:
            return None
        tokenizer = workload.tokenizer_copy(lm)
        source = getattr(captum_attr, method)(lm.model) if kind == "LLMAttribution" \
            else getattr(captum_attr, method)(lm.model, lm.model.get_input_embeddings())
        attribution = getattr(captum_attr, kind)(source, tokenizer)
        text = captum_attr.TextTokenInput(workload.PROMPT, tokenizer, baselines=all_pad_id(lm))
        return lambda: attribution.attribute(text, target=answer, **kwargs)

    def on_prompt(uq: TextSaliency, result: Any) -> harness.Agreement:
        return prompt_columns(uq, result.token_attr)

    steps = args.ig_steps

    def with_variants(base: harness.Comparison, request_: TextSaliencyRequest) -> list[harness.Comparison]:
        return [base, *saliency_rows.variant_rows(base, request_, engine.text_saliency, args.memory_budget_mib,
                                                  args.ig_uq_steps)]

    occlusion_note = ("f(input) - f(input with one token replaced by the padding embedding), target log p(token); "
                      "both sides ablate the prompt tokens only (one pass each)")
    return context, [
        harness.Comparison("occlusion matrix (pad baseline)", PEER,
                           uqlens("occlusion", baseline="all_pad"),
                           captum("LLMAttribution", "FeatureAblation", forward_in_tokens=False), on_prompt,
                           note=occlusion_note + "; captum with forward_in_tokens=False", unavailable=missing),
        harness.Comparison("occlusion matrix, answer columns too", PEER,
                           uqlens("occlusion", baseline="all_pad", ablate="prompt_and_answer"),
                           captum("LLMAttribution", "FeatureAblation", forward_in_tokens=False), on_prompt,
                           note="UQ Lens also ablates the answer's earlier tokens (one more pass each: how earlier "
                                "answer tokens drive later ones), captum the prompt's only; forward_in_tokens=False",
                           unavailable=missing),
        harness.Comparison("occlusion matrix, captum's default forward", PEER,
                           uqlens("occlusion", baseline="all_pad"), captum("LLMAttribution", "FeatureAblation"),
                           on_prompt, note=occlusion_note + "; captum's default forward (the answer re-run token "
                           "by token with a KV cache): on transformers 5 its cached steps give other log-"
                           "probabilities, hence the large difference (forward_in_tokens=False agrees)",
                           unavailable=missing, memory=False, repeats=1, warm_up=False),
        *with_variants(harness.Comparison(
            "input_x_gradient matrix", PEER, uqlens("input_x_gradient"),
            captum("LLMGradientAttribution", "LayerGradientXActivation"), on_prompt,
            note="embedding x gradient of log p(token), summed over the embedding; prompt columns",
            unavailable=missing), request("input_x_gradient")),
        *with_variants(harness.Comparison(
            f"integrated_gradients matrix ({steps} steps)", PEER,
            uqlens("integrated_gradients", steps=steps, baseline="all_pad"),
            captum("LLMGradientAttribution", "LayerIntegratedGradients", n_steps=steps, internal_batch_size=steps),
            ig_difference(lm, analysis, steps),
            note="Gauss-Legendre, all path points in one batch; timed: UQ Lens's all_pad path; agreement: UQ Lens's "
                 "integrated_gradients on captum's path (prompt from padding, answer prefix kept), prompt columns; "
                 "deltas: each side on its own path", unavailable=missing,
            details=saliency_rows.ig_details(captum_deltas(lm, analysis), steps)),
            request("integrated_gradients", steps=steps, baseline="all_pad")),
        harness.Comparison("gradient_norm matrix", "captum LLMGradientAttribution", uqlens("gradient_norm"), None,
                           unavailable=missing or saliency_refusal(captum_attr, lm), memory=False),
    ]



if __name__ == "__main__":
    sys.exit(harness.main(__doc__, build, ("--tokens", 16, "answer tokens explained"),
                          ("--ig-steps", 8, "integrated gradients path points")))
