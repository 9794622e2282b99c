"""What the sequence methods will cost before they run: passes of each model, and seconds estimated from one pass
timed on the models actually loaded (timed once per model and batch size; the engine keeps the timings).

A language-model pass is one decoding step of generate over `batch` sequences (the timing includes the prompt's
prefill, spread over the timed steps, so it errs high); an embedding pass is one text; an NLI pass is one
premise-hypothesis pair.
"""
from __future__ import annotations

import time
from typing import Callable, Optional

import torch

from backend.analyses.evidence import EVIDENCE, PassCount, required_evidence
from backend.sequence.method_spec import MethodSpec
from backend.models.embedding_loader import LoadedEmbeddingModel
from backend.models.nli_loader import LoadedNliModel
from backend.models.text_loader import LoadedTextModel
from backend.schemas import MethodCost
from backend.text.generation import build_model_input, pad_id

TIMED_STEPS = 4
TIMING_PROMPT = "Name a famous scientist and say in one sentence what they discovered."
TIMED_TEXTS = 16
TIMED_PAIRS = 8


def time_lm_pass(lm: LoadedTextModel, batch: int) -> float:
    """Seconds per decoding step of a generate call over `batch` sequences (the caller holds the model's lock)."""
    _text, ids, _used = build_model_input(lm, TIMING_PROMPT, None)
    prompt = torch.tensor([ids], device=lm.device)
    started = time.perf_counter()
    with torch.inference_mode():
        lm.model.generate(prompt, attention_mask=torch.ones_like(prompt), do_sample=True, top_k=0, top_p=1.0,
                          temperature=1.0, num_return_sequences=batch, max_new_tokens=TIMED_STEPS,
                          min_new_tokens=TIMED_STEPS, pad_token_id=pad_id(lm))
    return (time.perf_counter() - started) / TIMED_STEPS


def time_embedding_text(embedder: LoadedEmbeddingModel) -> float:
    """Seconds per embedded text, from one batch of TIMED_TEXTS prompt-length texts."""
    started = time.perf_counter()
    embedder.embed([f"{TIMING_PROMPT} Answer number {i}." for i in range(TIMED_TEXTS)])
    return (time.perf_counter() - started) / TIMED_TEXTS


def time_nli_pair(nli: LoadedNliModel) -> float:
    """Seconds per NLI pair, from one batch of TIMED_PAIRS pairs."""
    started = time.perf_counter()
    nli.probabilities([TIMING_PROMPT] * TIMED_PAIRS, [f"Answer number {i}." for i in range(TIMED_PAIRS)])
    return (time.perf_counter() - started) / TIMED_PAIRS


def estimate_costs(specs: list[MethodSpec], *, k: int, new_tokens: int, sample_tokens: int, given_answer: bool,
                   meaning_kind: str, lm_pass_seconds: Callable[[int], float], embedding_seconds: Optional[float],
                   nli_seconds: Optional[float]) -> list[MethodCost]:
    """One MethodCost per piece of evidence the methods need, each listing the methods that use it.

    new_tokens: the answer's length in tokens (given answer) or its maximum (generated); sample_tokens: the
    samples' maximum (max_new_tokens: samples are drawn up to it also when the answer is given).
    lm_pass_seconds(batch): seconds of one LM pass over `batch` sequences. embedding_seconds / nli_seconds: per
    text / pair, None when that model is not used.
    """
    per_method = {spec.name: set(required_evidence(set(spec.needs), meaning_kind)) for spec in specs}
    costs = []
    for name in required_evidence({need for spec in specs for need in spec.needs}, meaning_kind):
        passes = (PassCount(lm_passes=1) if name == "generation" and given_answer
                  else EVIDENCE[name].passes(k, sample_tokens if EVIDENCE[name].per_sample else new_tokens,
                                             meaning_kind))
        seconds = (passes.lm_passes * lm_pass_seconds(passes.lm_batch) if passes.lm_passes else 0.0)
        seconds += passes.embedding_texts * (embedding_seconds or 0.0) + passes.nli_pairs * (nli_seconds or 0.0)
        costs.append(MethodCost(evidence=name, label=EVIDENCE[name].label, lm_passes=passes.lm_passes,
                                lm_batch=passes.lm_batch, embedding_texts=passes.embedding_texts,
                                nli_pairs=passes.nli_pairs, seconds=seconds,
                                methods=[m for m, needs in per_method.items() if name in needs]))
    return costs
