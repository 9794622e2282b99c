"""Saliency matrix of a 32-token answer: UQ Lens's batched computation vs. captum run token by token, in one run.

    .venv/bin/python bench/bench_saliency_matrix.py [--tokens 32] [--methods input_x_gradient occlusion
        integrated_gradients] [--ig-steps 16] [--repeats 3] [--device cpu|cuda] [--out FILE]

The default model answers a fixed prompt greedily (--tokens new tokens). For each method, both ways explain the
log-probability of every answer token over all tokens before it, from the same input embeddings and baselines:

  batched   backend.text.saliency.text_saliency: one forward pass over the whole sequence serves every
            answer token (one batched backward pass per token for gradients; one pass per input token, shared
            by all answer tokens, for occlusion);
  captum    for each answer token, captum's InputXGradient / IntegratedGradients / FeatureAblation on that
            token's prefix (its forward function computes only the last position's logits; integrated
            gradients get all path points in one batch, ablation one pass per prefix token in one batch).

Occlusion is left out by default: captum token by token runs about (answer tokens x prefix length) / 32 batched
passes of 32 sequences, which takes tens of minutes on a 2-core CPU; add it with --methods occlusion.

Each timing is the median of --repeats runs after one warm-up; ratio = captum / batched (above 1: batched is
faster). The largest difference between the two matrices is printed too. Prints a table and writes it as JSON
(default: artifacts/bench/bench_saliency_matrix.json).
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from captum.attr import FeatureAblation, InputXGradient, IntegratedGradients  # noqa: E402

from backend.engine import Engine  # noqa: E402  (the project root must be importable first)
from backend.models.text_loader import LoadedTextModel  # noqa: E402
from backend.schemas import DEFAULT_TEXT_MODEL, TextAnalysis, TextRequest  # noqa: E402
from backend.schemas.text_saliency import TextSaliencyRequest  # noqa: E402
from backend.text.positions import input_tokens  # noqa: E402
from backend.text.saliency import text_saliency  # noqa: E402

PROMPT = "Write a short story about a lighthouse keeper who finds a message in a bottle."


def synchronize(device: str) -> None:
    """Wait for queued GPU work so the clock measures it."""
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def median_seconds(run, device: str, repeats: int) -> tuple[float, object]:
    """(median wall time of run() over `repeats` calls after one warm-up call, the last result)."""
    result = run()
    synchronize(device)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = run()
        synchronize(device)
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def content_space_baseline(lm: LoadedTextModel, analysis: TextAnalysis) -> torch.Tensor:
    """(T, D) the default baseline: template and special tokens kept, every other token a space."""
    ids = torch.tensor(analysis.ids, device=lm.device)
    keep = torch.tensor([t.kind == "template" or t.special for t in input_tokens(lm, analysis.ids,
                                                                                 analysis.answer_start)],
                        device=lm.device)
    space = lm.tokenizer(" ", add_special_tokens=False)["input_ids"][-1]
    return lm.model.get_input_embeddings()(torch.where(keep, ids, torch.full_like(ids, space))).detach()


def captum_rows(lm: LoadedTextModel, analysis: TextAnalysis, method: str, steps: int) -> list[torch.Tensor]:
    """The saliency matrix computed token by token with captum: one attribution call per answer token."""
    embeddings = lm.model.get_input_embeddings()(torch.tensor(analysis.ids, device=lm.device)).detach()
    baseline = content_space_baseline(lm, analysis)
    rows = []
    for position in range(analysis.answer_start, len(analysis.ids)):
        token = analysis.ids[position]

        def forward(x: torch.Tensor, token: int = token) -> torch.Tensor:
            logits = lm.model(inputs_embeds=x, logits_to_keep=1).logits[:, -1].float()
            return torch.log_softmax(logits, dim=-1)[:, token]

        prefix, reference = embeddings[None, :position], baseline[None, :position]
        if method == "input_x_gradient":
            scores = InputXGradient(forward).attribute(prefix.clone().requires_grad_(True)).sum(dim=-1)
        elif method == "integrated_gradients":
            scores = IntegratedGradients(forward).attribute(prefix, baselines=reference, n_steps=steps,
                                                            internal_batch_size=steps).sum(dim=-1)
        else:
            mask = torch.arange(position, device=lm.device)[:, None].expand(-1, prefix.shape[-1])[None]
            scores = FeatureAblation(forward).attribute(prefix, baselines=reference, feature_mask=mask,
                                                        perturbations_per_eval=min(position, 32))[..., 0]
        rows.append(scores[0].detach().double().cpu())
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--methods", nargs="+", default=["input_x_gradient", "integrated_gradients"],
                        choices=["input_x_gradient", "occlusion", "integrated_gradients"])
    parser.add_argument("--ig-steps", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default=None, help="default: CUDA when present, else CPU")
    parser.add_argument("--threads", type=int, help="CPU threads for torch (on a busy machine 1 gives steadier "
                                                    "timings than threads fighting for cores)")
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts" / "bench" / "bench_saliency_matrix.json")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    engine = Engine(device=args.device)
    lm = engine.text_model(DEFAULT_TEXT_MODEL)
    analysis = engine.analyze_text(TextRequest(prompt=PROMPT, max_new_tokens=args.tokens))
    n_tokens = len(analysis.tokens)
    print(f"{DEFAULT_TEXT_MODEL} on {engine.device}: {analysis.answer_start} input + {n_tokens} answer tokens; "
          f"median of {args.repeats} runs after a warm-up")
    results = []
    for method in args.methods:
        parameters = {"steps": args.ig_steps} if method == "integrated_gradients" else {}
        request = TextSaliencyRequest(ids=analysis.ids, answer_start=analysis.answer_start, method=method,
                                      parameters=parameters, normalisation="none")
        with engine.model_lock(DEFAULT_TEXT_MODEL):
            batched_s, batched = median_seconds(lambda: text_saliency(lm, request), engine.device, args.repeats)
            captum_s, reference = median_seconds(lambda: captum_rows(lm, analysis, method, args.ig_steps),
                                                 engine.device, args.repeats)
        difference = max(float((torch.tensor(row.scores) - ref).abs().max()) for row, ref in zip(batched.rows, reference))
        results.append(dict(method=method, ig_steps=args.ig_steps if method == "integrated_gradients" else None,
                            batched_s=batched_s, captum_token_by_token_s=captum_s, ratio=captum_s / batched_s,
                            max_abs_difference=difference))
        print(f"  {method}: batched {batched_s:.2f} s, captum token by token {captum_s:.2f} s")
    print(f"\n{'method':<22} {'batched s':>10} {'captum s':>10} {'ratio':>7} {'max |diff|':>11}")
    for r in results:
        print(f"{r['method']:<22} {r['batched_s']:>10.2f} {r['captum_token_by_token_s']:>10.2f} {r['ratio']:>7.2f} "
              f"{r['max_abs_difference']:>11.2e}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(dict(model=DEFAULT_TEXT_MODEL, device=engine.device, answer_tokens=n_tokens,
                                        input_tokens=analysis.answer_start, repeats=args.repeats,
                                        torch=torch.__version__, threads=torch.get_num_threads(),
                                        machine=platform.platform(), results=results), indent=2))
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
