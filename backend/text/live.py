"""Live generation on an in-process model: analyze_text with each new token published while generate runs.

A forward hook keeps the last row of each generate step's raw logits; after the step (in the generate stopping
criterion, backend.text.passes.BudgetCheckpoint) the new token's numbers are computed from that row by
backend.analyses.token_stats at the request's temperature, exactly as the finished analysis computes them from
its teacher-forced pass (equal up to float summation order: the step ran through the key-value cache). The
finished analysis is analyze_text's own (same generate call, same ids, same single scoring pass); when the reader
asked to finish early it is the analysis of the tokens generated so far, with stop_reason "stopped".
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Optional

import torch

from backend.analyses.token_stats import token_stats
from backend.models.text_loader import LoadedTextModel
from backend.schemas import Alternative, TextAnalysis, TextRequest, TokenScore
from backend.streaming import TokenStream, current_stream
from backend.text.generation import analyze_text, lone_texts, token_texts


def live_token(lm: LoadedTextModel, ids: list[int], logits: torch.Tensor, temperature: float,
               top_k: int) -> TokenScore:
    """The TokenScore of ids[-1] from the raw logits (V,) of the step that chose it (position len(ids) - 1)."""
    stats = token_stats(logits[None], torch.tensor(ids[-1:]), temperature=temperature, top_k=top_k)
    top_ids, top_probs = stats.top_ids[0].tolist(), stats.top_probs[0].tolist()
    names = lone_texts(lm.tokenizer, top_ids)
    position = len(ids) - 1
    return TokenScore(position=position, text=token_texts(lm.tokenizer, ids, position, position + 1)[0],
                      id=ids[-1], prob=float(stats.prob[0]), logprob=float(stats.logprob[0]),
                      entropy=float(stats.entropy[0]), rank=int(stats.rank[0]), margin=float(stats.margin[0]),
                      special=ids[-1] in set(lm.tokenizer.all_special_ids),
                      top_k=[Alternative(text=names[t], id=t, prob=p) for t, p in zip(top_ids, top_probs)])


@contextmanager
def publishing(lm: LoadedTextModel, stream: TokenStream, request: TextRequest) -> Iterator[None]:
    """Inside the block, each token generate makes is published to `stream` (live_token of its step's logits).

    The hook clones one (V,) row per forward pass (the scoring pass's logits are never kept); it is removed on
    leaving the block. The caller holds the model's lock, so no other request runs through the hooked model.
    """
    last: dict[str, Optional[torch.Tensor]] = {"row": None}

    def keep_last_row(_module, _args, output) -> None:
        last["row"] = output.logits[0, -1].float().clone()

    def publish(input_ids: torch.Tensor) -> None:
        if last["row"] is not None:
            stream.publish(live_token(lm, input_ids[0].tolist(), last["row"], request.temperature, request.top_k))
            last["row"] = None

    handle = lm.model.register_forward_hook(keep_last_row)
    try:
        with stream.observing(publish):
            yield
    finally:
        handle.remove()


def stopped_reason(analysis: TextAnalysis, stream: TokenStream) -> TextAnalysis:
    """The analysis with stop_reason "stopped" when generation ended because the reader asked it to (not at an
    end token, not at max_new_tokens)."""
    generated = sum(not t.forced for t in analysis.tokens)
    if stream.stopped_early and analysis.stop_reason == "max_new_tokens" and generated < analysis.max_new_tokens:
        return analysis.model_copy(update={"stop_reason": "stopped"})
    return analysis


def analyze_live_text(lm: LoadedTextModel, request: TextRequest) -> TextAnalysis:
    """analyze_text, publishing each generated token to the installed stream (backend.streaming) as it comes; a
    request without a stream, or one scoring a given answer, is analyze_text unchanged."""
    stream = current_stream()
    if stream is None or request.answer is not None:
        return analyze_text(lm, request)
    with publishing(lm, stream, request):
        analysis = analyze_text(lm, request)
    return stopped_reason(analysis, stream)
