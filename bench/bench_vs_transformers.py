"""UQ Lens's per-token probabilities against the floor: a plain transformers loop on the same model, in one run.

    .venv-bench/bin/python bench/bench_vs_transformers.py [--tokens 64] [--new-tokens 32] [--repeats 3]
        [--model ID] [--device cpu|cuda] [--threads N] [--no-memory] [--out FILE]

Two operations, each as UQ Lens's Engine.analyze_text and as the shortest transformers code that gives the same
numbers (softmax at temperature 1 over the full vocabulary, in float64):
  - score a given answer: the prompt and a fixed answer of --tokens tokens without the chat template; the floor
    is one forward pass, log_softmax, the chosen tokens' log-probabilities and the entropies;
  - generate then score: a greedy answer of at most --new-tokens tokens to a chat-template question; the floor is
    model.generate followed by the same scoring pass.
UQ Lens does more in the same call (rank, top-2 margin, top-k alternatives with their texts, the prompt tokens'
scores, token texts and sequence summaries); the ratio shows what that costs. Prints a table and writes JSON
(artifacts/bench/bench_vs_transformers.json).
"""
from __future__ import annotations

import argparse
import sys
from typing import Any, Callable

import torch

import harness
import workload
from backend.models.text_loader import LoadedTextModel
from backend.schemas import TextAnalysis, TextRequest
from backend.text.generation import pad_id

PEER = "transformers loop"
QUESTION = "Why does the sea look blue?"


def score(lm: LoadedTextModel, ids: list[int], start: int) -> tuple[list[int], torch.Tensor, torch.Tensor]:
    """(ids, log p (T,), entropy (T,) in nats) of ids[start:] from one forward pass over ids."""
    with torch.inference_mode():
        tensor = torch.tensor([ids], device=lm.device)
        logits = lm.model(input_ids=tensor).logits[0, start - 1:-1].double()
    logp = torch.log_softmax(logits, dim=-1)
    chosen = logp.gather(1, tensor[0, start:, None])[:, 0]
    return ids, chosen.cpu(), -(logp.exp() * logp).sum(dim=-1).cpu()


def generate_then_score(lm: LoadedTextModel, ids: list[int], new_tokens: int
                        ) -> Callable[[], tuple[list[int], torch.Tensor, torch.Tensor]]:
    """The floor for generation: greedy model.generate, then score()."""
    def run() -> tuple[list[int], torch.Tensor, torch.Tensor]:
        with torch.inference_mode():
            tensor = torch.tensor([ids], device=lm.device)
            out = lm.model.generate(tensor, attention_mask=torch.ones_like(tensor), max_new_tokens=new_tokens,
                                    do_sample=False, temperature=None, top_p=None, top_k=None,
                                    pad_token_id=pad_id(lm))
        return score(lm, out[0].tolist(), len(ids))
    return run


def floor_difference(uq: TextAnalysis, floor: tuple[list[int], torch.Tensor, torch.Tensor]) -> harness.Agreement:
    """Agreement of the token probabilities and entropies (nats); the answers must have the same ids."""
    ids, logp, entropy = floor
    if ids != uq.ids:
        raise ValueError("UQ Lens and the transformers loop produced different token ids; nothing to compare")
    return harness.worst([harness.agreement([t.prob for t in uq.tokens], logp.exp()),
                          harness.agreement([t.entropy for t in uq.tokens], entropy)])


def build(args: argparse.Namespace) -> tuple[dict[str, Any], list[harness.Comparison]]:
    """Scoring a given answer, and generating then scoring."""
    engine, lm = workload.load(args)
    given = workload.scored_answer(engine, lm, args.tokens)
    question = TextRequest(model=lm.spec.id, prompt=QUESTION, max_new_tokens=args.new_tokens)
    generated = engine.analyze_text(question)
    input_ids = generated.ids[:generated.answer_start]
    context = {"model": lm.spec.id, "device": lm.device, "dtype": str(lm.model.dtype),
               "given_answer_tokens": len(given.tokens), "generated_answer_tokens": len(generated.tokens),
               "generated_stop_reason": generated.stop_reason}
    note = ("probabilities and entropies (nats); UQ Lens also computes rank, margin, top-k alternatives, token "
            "texts, the prompt tokens' scores and the summaries")
    return context, [
        harness.Comparison(f"score a given {len(given.tokens)}-token answer", PEER,
                           lambda: engine.analyze_text(workload.score_request(lm, args.tokens)),
                           lambda: score(lm, given.ids, given.answer_start), floor_difference, note=note),
        harness.Comparison(f"greedy answer ({len(generated.tokens)} tokens) + scores", PEER,
                           lambda: engine.analyze_text(question),
                           generate_then_score(lm, input_ids, args.new_tokens), floor_difference,
                           note=note + "; the chat template on both sides"),
    ]



if __name__ == "__main__":
    sys.exit(harness.main(__doc__, build, ("--tokens", 64, "tokens of the given answer"),
                          ("--new-tokens", 32, "largest generated answer")))
