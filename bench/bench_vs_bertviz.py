"""UQ Lens's attention maps against bertviz on the same model and text, in one run: attention extraction plus what
goes to the browser.

    .venv-bench/bin/python bench/bench_vs_bertviz.py [--tokens 64] [--repeats 3]
        [--model ID] [--device cpu|cuda] [--threads N] [--no-memory] [--out FILE]

The prompt and a fixed answer of --tokens tokens, without the chat template. UQ Lens: Engine.text_attention with a
view (the last layer's head mean, a window over the whole text up to 256 tokens, 16 x 16 thumbnails of every
head) serialised to JSON, as the service sends it, for a text it has not run yet (its kept last forward is
dropped before each call). bertviz 1.4: the user's forward pass with output_attentions (eager attention, as UQ
Lens loads models) and head_view or model_view with html_action='return', whose HTML embeds every layer's every
head in full (layers x heads x T x T numbers). A last row times another view of the same text: UQ Lens from the
forward it kept, bertviz's head_view again from the attentions the user kept. Agreement: the last layer's head-mean
attention row of each answer token's producing step (query p - 1 over keys 0..p-1). The sizes of both outputs are
reported. Prints a table and writes JSON (artifacts/bench/bench_vs_bertviz.json).
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Any, Callable

import torch

import harness
import workload
from backend.models.text_loader import LoadedTextModel
from backend.schemas.text_attention import AttentionViewRequest, TextAttention, TextAttentionRequest

PEER = "bertviz"


@dataclass(frozen=True)
class Rendered:
    """What a tool hands the browser (text) and the attention it was made from ((L, H, T, T) for bertviz)."""

    text: str
    attentions: Any


def forward_attentions(lm: LoadedTextModel, ids: list[int]) -> tuple[torch.Tensor, ...]:
    """The model's attentions for ids: L tensors (1, H, T, T)."""
    with torch.inference_mode():
        tensor = torch.tensor([ids], device=lm.device)
        return lm.model(input_ids=tensor, output_attentions=True).attentions


def bertviz_view(bertviz: Any, lm: LoadedTextModel, ids: list[int], view: str,
                 kept: tuple[torch.Tensor, ...] | None = None) -> Callable[[], Rendered]:
    """A forward pass with output_attentions (none when the attentions are `kept`), then bertviz's head_view or
    model_view as HTML."""
    tokens = lm.tokenizer.convert_ids_to_tokens(ids)

    def run() -> Rendered:
        attentions = kept if kept is not None else forward_attentions(lm, ids)
        html = getattr(bertviz, view)(attentions, tokens, html_action="return").data
        return Rendered(html, attentions)
    return run


def row_difference(uq: Rendered, peer: Rendered) -> harness.Agreement:
    """Agreement of the last layer's head-mean rows of the answer tokens' producing steps."""
    analysis: TextAttention = uq.attentions
    last = peer.attentions[-1][0].float().mean(dim=0)
    return harness.worst(harness.agreement(row, last[p - 1, :p])
                         for p, row in zip(range(analysis.answer_start, len(analysis.tokens)),
                                           analysis.last_layer_head_mean))


def build(args: argparse.Namespace) -> tuple[dict[str, Any], list[harness.Comparison]]:
    """bertviz's head view and model view against UQ Lens's attention maps with a view."""
    engine, lm = workload.load(args)
    analysis = workload.scored_answer(engine, lm, args.tokens)
    bertviz, missing = harness.import_peer("bertviz")
    request = TextAttentionRequest(model=lm.spec.id, ids=analysis.ids, answer_start=analysis.answer_start,
                                   view=AttentionViewRequest(aggregation="head_mean",
                                                             window_size=min(256, len(analysis.ids))))

    def uqlens_view() -> Rendered:
        maps = engine.text_attention(request)
        return Rendered(maps.model_dump_json(), maps)

    def uqlens() -> Rendered:
        engine.pool.clear_caches()
        return uqlens_view()

    sizes = {"uqlens_json_bytes": len(uqlens().text)}
    comparisons = []
    for view in ("head_view", "model_view"):
        peer = bertviz_view(bertviz, lm, analysis.ids, view) if bertviz is not None else None
        if peer is not None:
            sizes[f"bertviz_{view}_html_bytes"] = len(peer().text)
        comparisons.append(harness.Comparison(
            f"attention + {view.replace('_', ' ')} page data", PEER + f" {view}", uqlens, peer, row_difference,
            note=f"UQ Lens: rows, one view and all heads' thumbnails as JSON ({sizes['uqlens_json_bytes'] / 1024:.0f} "
                 f"KiB); bertviz {view}: every head in full inside the HTML "
                 f"({sizes.get(f'bertviz_{view}_html_bytes', 0) / 1024:.0f} KiB); agreement on the last layer's "
                 f"head-mean rows", unavailable=missing))
    kept = forward_attentions(lm, analysis.ids) if bertviz is not None else None
    comparisons.append(harness.Comparison(
        "another view of the same text (forward kept)", PEER + " head_view", uqlens_view,
        bertviz_view(bertviz, lm, analysis.ids, "head_view", kept) if bertviz is not None else None, row_difference,
        note="UQ Lens: the view from the attentions and rollout it kept of the last text it ran; bertviz: head_view "
             "again from the attentions the user kept (no forward pass on either side)", unavailable=missing))
    context = {"model": lm.spec.id, "device": lm.device, "dtype": str(lm.model.dtype),
               "input_tokens": analysis.answer_start, "answer_tokens": len(analysis.tokens), **sizes}
    return context, comparisons



if __name__ == "__main__":
    sys.exit(harness.main(__doc__, build, ("--tokens", 64, "answer tokens")))
