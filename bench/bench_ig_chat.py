"""Integrated gradients on a chat model's own input, UQ Lens against captum's LLMGradientAttribution, at equal
convergence delta: the same path on both sides, so the same Gauss-Legendre nodes give the same delta.

    .venv-bench/bin/python bench/bench_ig_chat.py [--tokens 16] [--ig-steps-list 8 16 32] [--repeats 3]
        [--model ID] [--device cpu|cuda] [--threads N] [--no-memory] [--out FILE] [--quick]

The prompt goes through the model's chat template (as the app sends it) and a fixed answer of --tokens tokens
follows. The path runs from the baseline UQ Lens calls `prompt_space` (the user's words replaced by a space
token; the chat template, special tokens and the answer kept) to the input, which is captum's own convention for
LLMGradientAttribution (the answer prefix kept, the prompt's features replaced by one baseline id); captum gets
it as a TextTokenInput whose interpretable tokens are exactly the user's words (the template's tokens may share
ids with the user's, so they are chosen by position, not by skip_tokens). Both sides then integrate the same
function along the same path with the same nodes: their convergence deltas are equal, and the ratio is the cost
of the same result.
  - UQ Lens: Engine.text_saliency, every answer token from shared batched passes; the template's leading
    positions, equal along the path, are run once and their keys and values reused by every path point.
  - captum 0.9: LayerIntegratedGradients on the input embeddings through LLMGradientAttribution, one attribution
    call (n_steps forward and backward passes over the prompt + answer prefix) per answer token.
Each steps count of --ig-steps-list gives a row (the first with a warm-up, --repeats rounds and memory; the
others timed once) and a row of UQ Lens's default baseline (`content_space`, the answer replaced too: a path
captum cannot take) set against the same captum row, with its own delta. Agreement: the prompt columns (the only
ones captum gives). Prints a table and writes JSON (artifacts/bench/bench_ig_chat.json).
"""
from __future__ import annotations

import argparse
import sys
from typing import Any, Callable, Sequence

import torch

import harness
import saliency_rows
import workload
from backend.models.text_loader import LoadedTextModel
from backend.schemas import TextAnalysis, TextRequest
from backend.schemas.text_attention import InputToken
from backend.schemas.text_saliency import TextSaliency, TextSaliencyRequest
from backend.text.positions import input_tokens

PEER = "captum LLMGradientAttribution"
SAME_PATH = "prompt_space"
DEFAULT_PATH = "content_space"


def chat_answer(engine: Any, lm: LoadedTextModel, n_tokens: int) -> TextAnalysis:
    """UQ Lens's analysis of the fixed answer of n_tokens tokens after the chat-templated prompt, checked so that
    the tokenizer gives captum the same prompt ids from the prompt's text."""
    analysis = engine.analyze_text(TextRequest(model=lm.spec.id, prompt=workload.PROMPT,
                                               answer=workload.fixed_answer(lm, n_tokens), chat_template=True))
    prompt_ids = analysis.ids[:analysis.answer_start]
    if lm.tokenizer.encode(lm.tokenizer.decode(prompt_ids)) != prompt_ids:
        raise ValueError(f"{lm.spec.id}'s tokenizer does not give back the chat-templated prompt's ids from its "
                         f"text; captum would see other ids")
    return analysis


def users_words(analysis: TextAnalysis, tokens: Sequence[InputToken]) -> list[bool]:
    """For each prompt position, whether the prompt_space baseline replaces it (the user's words: neither the
    chat template nor a special token). tokens: the sequence's positions as text_saliency reads them
    (backend.text.positions.input_tokens)."""
    return [not (t.kind == "template" or t.special) for t in tokens[:analysis.answer_start]]


def positional_input(captum_attr: Any, text: str, tokenizer: Any, baseline_id: int, replaced: list[bool]) -> Any:
    """A captum TextTokenInput of `text` whose interpretable tokens are the positions marked in `replaced`
    (each replaced by baseline_id along the path), the others kept as they are."""
    text_input = captum_attr.TextTokenInput(text, tokenizer, baselines=baseline_id)
    mask = torch.tensor([replaced])
    if mask.shape != text_input.inp_tensor.shape:
        raise ValueError(f"captum tokenised {text_input.inp_tensor.shape[1]} prompt tokens, UQ Lens {len(replaced)}")
    text_input.itp_mask = mask
    text_input.itp_tensor = text_input.inp_tensor[mask].unsqueeze(0)
    text_input.values = tokenizer.convert_ids_to_tokens(text_input.itp_tensor[0].tolist())
    text_input.n_itp_features = len(text_input.values)
    return text_input


def prompt_columns(analysis: TextAnalysis, replaced: list[bool]) -> Callable[[TextSaliency, Any], harness.Agreement]:
    """Agreement of UQ Lens's rows and captum's token_attr (answer tokens x the user's words) on those columns."""
    columns = torch.tensor(replaced)

    def difference(uq: TextSaliency, result: Any) -> harness.Agreement:
        return harness.worst(harness.agreement(torch.tensor(row.scores[:analysis.answer_start])[columns],
                                               result.token_attr[n]) for n, row in enumerate(uq.rows))
    return difference


def captum_deltas(uq: TextSaliency, result: Any) -> list[float]:
    """captum's relative convergence delta of each answer token: its token_attr row summed against f(input) -
    f(baseline) on the shared path (UQ Lens's target and baseline values, the same function at the same
    points)."""
    return saliency_rows.relative_deltas(result.token_attr.sum(dim=1).tolist(),
                                         [row.target_value - row.baseline_value for row in uq.rows])


def build(args: argparse.Namespace) -> tuple[dict[str, Any], list[harness.Comparison]]:
    """A same-path row and a default-path row per steps count."""
    engine, lm = workload.load(args)
    analysis = chat_answer(engine, lm, args.tokens)
    captum_attr, missing = harness.import_peer("captum.attr")
    steps_list = args.ig_steps_list[:1] if args.quick else args.ig_steps_list

    def request(steps: int, baseline: str) -> TextSaliencyRequest:
        return TextSaliencyRequest(model=lm.spec.id, ids=analysis.ids, answer_start=analysis.answer_start,
                                   method="integrated_gradients", parameters={"steps": steps, "baseline": baseline},
                                   normalisation="none")

    replaced = users_words(analysis, input_tokens(lm, analysis.ids, analysis.answer_start))
    space = lm.tokenizer(" ", add_special_tokens=False)["input_ids"][-1]
    text = lm.tokenizer.decode(analysis.ids[:analysis.answer_start])
    target = analysis.ids[analysis.answer_start:]
    context = {"model": lm.spec.id, "device": lm.device, "dtype": str(lm.model.dtype),
               "input_tokens": analysis.answer_start, "users_words": sum(replaced),
               "answer_tokens": len(target), "ig_steps": steps_list}

    def captum(steps: int) -> Any:
        if captum_attr is None:
            return None

        tokenizer = workload.tokenizer_copy(lm)
        attribution = captum_attr.LLMGradientAttribution(
            captum_attr.LayerIntegratedGradients(lm.model, lm.model.get_input_embeddings()), tokenizer)
        text_input = positional_input(captum_attr, text, tokenizer, space, replaced)
        return lambda: attribution.attribute(text_input, target=torch.tensor(target), n_steps=steps,
                                             internal_batch_size=steps)

    rows = []
    for index, steps in enumerate(steps_list):
        first = index == 0
        same = harness.Comparison(
            f"integrated_gradients (chat, {steps} steps), same path", PEER,
            lambda steps=steps: engine.text_saliency(request(steps, SAME_PATH)), captum(steps),
            prompt_columns(analysis, replaced),
            note="the user's words from a space token, the template and the answer kept (UQ Lens prompt_space, "
                 "captum's path); Gauss-Legendre, all path points in one batch; prompt columns",
            unavailable=missing, warm_up=first, memory=first, repeats=None if first else 1,
            details=saliency_rows.ig_details(captum_deltas, steps))
        rows.append(same)
        rows.append(harness.Comparison(
            f"integrated_gradients (chat, {steps} steps), default path", PEER,
            lambda steps=steps: engine.text_saliency(request(steps, DEFAULT_PATH)), None,
            note="UQ Lens's content_space baseline (the answer replaced by spaces too: the answer's own columns "
                 "explained); the peer's time: the same-path row above", unavailable=missing,
            same_peer_as=same.operation, warm_up=False, memory=False, repeats=1,
            details=saliency_rows.ig_details(captum_deltas, steps)))
    return context, rows


if __name__ == "__main__":
    parser = harness.parser(__doc__)
    parser.add_argument("--tokens", type=int, help="answer tokens explained (default 16; 8 with --quick)")
    parser.add_argument("--ig-steps-list", type=int, nargs="+", default=[8, 16, 32],
                        help="integrated gradients path points, one row each (--quick: the first only)")
    harness.run(parser, build, (("--tokens", 16, "answer tokens explained"),))
    sys.exit(0)
