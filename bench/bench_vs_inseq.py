"""UQ Lens against inseq on the same model and answer, in one run: the per-token probability and entropy, and the
saliency of every answer token over the tokens before it (gradient L2 norm, input x gradient, integrated gradients).

    .venv-bench/bin/python bench/bench_vs_inseq.py [--tokens 16] [--ig-steps 8] [--repeats 3]
        [--model ID] [--device cpu|cuda] [--threads N] [--no-memory] [--out FILE]
        [--memory-budget-mib 1024 256 64] [--ig-uq-steps 4 6]

The prompt and a fixed answer of --tokens tokens are scored without the chat template, so that both tools see the
same ids (checked). UQ Lens: Engine.analyze_text (one forward pass) and Engine.text_saliency (every answer token
from one forward pass and batched backward passes). inseq: AttributionModel.attribute with the answer given as the
generated text, which runs one step (a forward and, for gradients, a backward pass over the prefix) per answer
token; its attribution target is the token's log-probability (a step function registered here, as UQ Lens's
default target), its step scores inseq's own `probability` and `entropy`. Integrated gradients use Gauss-Legendre
quadrature on both sides, all path points in one batch, and the same baseline: inseq builds its baseline from the
tokenizer's unknown token, so it gets a tokenizer copy whose unknown token is the padding token, which makes it UQ
Lens's `all_pad` baseline. Scores are raw (no normalisation) and summed over the embedding (L2 norm for the
gradient norm). The integrated-gradients rows state each side's relative convergence delta (the same path on both
sides, so f(input) and f(baseline) are UQ Lens's); --memory-budget-mib adds UQ Lens's gradient methods at smaller
memory budgets and --ig-uq-steps its integrated gradients at other steps, each set against the peer's row. Prints
a table and writes JSON (artifacts/bench/bench_vs_inseq.json).
"""
from __future__ import annotations

import argparse
import sys
from typing import Any, Callable

import torch

import harness
import saliency_rows
import workload
from backend.schemas.text_saliency import TextSaliency, TextSaliencyRequest
from backend.text.saliency import all_pad_id

PEER = "inseq"
UQ_TO_INSEQ = {"gradient_norm": "saliency", "input_x_gradient": "input_x_gradient",
               "integrated_gradients": "integrated_gradients"}


def reduce_embedding(method: str, attributions: torch.Tensor) -> torch.Tensor:
    """(..., D) -> (...): the L2 norm over the embedding for the gradient norm, else the sum (captum's and UQ
    Lens's convention for input x gradient and integrated gradients)."""
    return attributions.norm(dim=-1) if method == "gradient_norm" else attributions.sum(dim=-1)


def attribution_difference(method: str) -> Callable[[TextSaliency, Any], harness.Agreement]:
    """Largest |UQ Lens score - inseq score| over every answer token and every position before it.

    inseq's target_attributions are (positions, answer tokens, D); column n holds the n-th answer token's scores."""
    def difference(uq: TextSaliency, out: Any) -> harness.Agreement:
        attributions = out.sequence_attributions[0].target_attributions
        return harness.worst(harness.agreement(row.scores, reduce_embedding(method, attributions[:row.position, n]))
                             for n, row in enumerate(uq.rows))
    return difference


def inseq_deltas(uq: TextSaliency, out: Any) -> list[float]:
    """inseq's relative convergence delta of each answer token: its integrated gradients summed over the positions
    before the token and the embedding, against UQ Lens's f(input) - f(baseline) on the same all_pad path."""
    attributions = out.sequence_attributions[0].target_attributions
    sums = [float(attributions[:row.position, n].sum()) for n, row in enumerate(uq.rows)]
    return saliency_rows.relative_deltas(sums, [row.target_value - row.baseline_value for row in uq.rows])


def step_score_difference(uq: Any, out: Any) -> harness.Agreement:
    """Agreement of the answer tokens' probabilities and entropies (nats) between UQ Lens and inseq."""
    scores = out.sequence_attributions[0].step_scores
    return harness.worst([harness.agreement([t.prob for t in uq.tokens], scores["probability"]),
                          harness.agreement([t.entropy for t in uq.tokens], scores["entropy"])])


def register_logprob_target(inseq: Any) -> None:
    """inseq step function 'logprob': log p of the target token at temperature 1, UQ Lens's default target."""
    from inseq.attr.step_functions import probability_fn

    inseq.register_step_function(lambda args: probability_fn(args, logprob=True), "logprob", overwrite=True)


def build(args: argparse.Namespace) -> tuple[dict[str, Any], list[harness.Comparison]]:
    """The four comparisons on one fixed answer of --tokens tokens."""
    engine, lm = workload.load(args)
    analysis = workload.scored_answer(engine, lm, args.tokens)
    prompt, full_text = workload.PROMPT, workload.PROMPT + workload.fixed_answer(lm, args.tokens)
    inseq, missing = harness.import_peer("inseq")
    context = {"model": lm.spec.id, "device": lm.device, "dtype": str(lm.model.dtype),
               "input_tokens": analysis.answer_start, "answer_tokens": len(analysis.tokens),
               "ig_steps": args.ig_steps}
    models: dict[str, Any] = {}
    if inseq is not None:
        register_logprob_target(inseq)
        models = {"plain": inseq.load_model(lm.model, "dummy", tokenizer=workload.tokenizer_copy(lm),
                                            device=lm.device),
                  "pad_baseline": inseq.load_model(lm.model, "integrated_gradients", device=lm.device,
                                                   tokenizer=workload.tokenizer_copy(lm, all_pad_id(lm)))}

    def attribute(model: str, method: str, **kwargs: Any) -> Callable[[], Any]:
        return lambda: models[model].attribute(prompt, full_text, method=method, attributed_fn="logprob",
                                               show_progress=False, **kwargs)

    def peer(run: Callable[[], Any]) -> Any:
        return run if inseq is not None else None

    comparisons = [harness.Comparison(
        f"token prob + entropy, {len(analysis.tokens)}-token answer", PEER,
        lambda: engine.analyze_text(workload.score_request(lm, args.tokens)),
        peer(attribute("plain", "dummy", step_scores=["probability", "entropy"])), step_score_difference,
        note="probabilities and entropies (nats) at temperature 1 over the full vocabulary; UQ Lens also gives "
             "rank, margin, top-k alternatives and the prompt tokens' scores from its one pass, inseq runs one "
             "forward pass per answer token", unavailable=missing)]
    for method, inseq_method in UQ_TO_INSEQ.items():
        steps = args.ig_steps if method == "integrated_gradients" else None
        parameters: dict[str, Any] = {"steps": steps, "baseline": "all_pad"} if steps else {}
        request = TextSaliencyRequest(model=lm.spec.id, ids=analysis.ids, answer_start=analysis.answer_start,
                                      method=method, parameters=parameters, normalisation="none")
        kwargs = {"n_steps": steps, "internal_batch_size": steps} if steps else {}
        base = harness.Comparison(
            f"{method} matrix{f' ({steps} steps)' if steps else ''}", PEER,
            lambda request=request: engine.text_saliency(request),
            peer(attribute("pad_baseline" if steps else "plain", inseq_method, **kwargs)),
            attribution_difference(method),
            note=f"raw scores of the target log p(token) over every earlier position; inseq method "
                 f"'{inseq_method}'" + (", inseq's absolute gradients, L2 norm over the embedding as UQ Lens"
                                         if method == "gradient_norm" else ""), unavailable=missing,
            details=saliency_rows.ig_details(inseq_deltas, steps) if steps else None)
        comparisons += [base, *saliency_rows.variant_rows(base, request, engine.text_saliency,
                                                          args.memory_budget_mib, args.ig_uq_steps)]
    return context, comparisons



if __name__ == "__main__":
    sys.exit(harness.main(__doc__, build, ("--tokens", 16, "answer tokens explained"),
                          ("--ig-steps", 8, "integrated gradients path points")))
