"""Attention-based uncertainty of one answer: RAUQ and the UQAC attention chain (pure numpy and torch).

Conventions. The answer has T tokens 0..T-1. Answer token i is represented by the attention row of the query
that produced it (the position just before it, as on the Attention page).

RAUQ (Vazhentsev et al., 2025; lm-polygraph's RAUQ estimator): prev[l, h, j-1] (j = 1..T-1) is the weight that
the row producing token j puts on token j-1, the token just before it (the generate step's own position; the
same number lm-polygraph reads off the diagonal below its generated-token attention). In each layer l of the
middle third (range(L // 3, ceil(2L / 3) + 1)), the head h* with the largest mean prev[l, h, :] is selected; the
confidences run c_0 = p_0, c_j = alpha p_j + (1 - alpha) prev[l, h*, j-1] c_{j-1}; the layer's uncertainty is
1 - mean_j ln c_j, and RAUQ is the largest over the layers (in [1, inf): 1 when every token is certain).

UQAC (Li et al., 2025): the answer's final tokens (its last `answer_tokens` content tokens) start a chain; each
step sums, over the chain's newest tokens, the weights of their rows' strongest (5) keys among the answer's earlier
content tokens, and adds up to 3 new tokens by that sum (those below the threshold only while the chain is shorter
than its minimum); the confidence is the product of the chain tokens' probabilities. Each row is the mean of the
8 lowest-entropy heads (over every layer) after the query's own position and the first token are zeroed and the
row renormalised, as in the authors' code; only its strongest TOP_KEYS answer keys are kept, so memory is linear
in T. Not implemented: the authors' position calibration factors and their similarity filter and candidate
ensemble over the chain (which need the output embeddings).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

UQAC_HEADS = 8
TOP_KEYS = 16
KEYS_PER_SOURCE = 5
BUFFER = 3
MIN_CHAIN = 5


@dataclass
class AttentionEvidence:
    """What RAUQ and UQAC read from the model for an answer of T tokens.

    prev: (L, H, T-1) float, prev[l, h, j-1] = weight of token j's producing row on token j-1;
    keys / weights: (T, TOP_KEYS) the reduced row of each answer token: answer-token indices of its strongest
    earlier answer keys (-1 = none) and their weights (0 for none); content: (T,) bool, tokens a chain may hold
    (not special, not whitespace or punctuation only); peak_bytes: the largest attention block held at once."""

    prev: np.ndarray
    keys: np.ndarray
    weights: np.ndarray
    content: np.ndarray
    peak_bytes: int = 0


def middle_layers(n_layers: int) -> list[int]:
    """RAUQ's layers: range(L // 3, ceil(2L / 3) + 1), cut at L (lm-polygraph's choice)."""
    return list(range(n_layers // 3, min(n_layers, math.ceil(n_layers / 3 * 2) + 1)))


def recurrent_confidence(probs: Sequence[float], prev: Sequence[float], alpha: float) -> np.ndarray:
    """(T,) c_0 = p_0, c_j = alpha p_j + (1 - alpha) prev[j-1] c_{j-1}; probs (T,), prev (T-1,) in [0, 1]."""
    confidence = np.empty(len(probs))
    confidence[0] = probs[0]
    for j in range(1, len(probs)):
        confidence[j] = alpha * probs[j] + (1.0 - alpha) * prev[j - 1] * confidence[j - 1]
    return confidence


def rauq(logprobs: Sequence[float], prev: np.ndarray, alpha: float) -> dict:
    """RAUQ of an answer: logprobs (T,) in nats, prev (L, H, T-1). Returns value (max over layers of
    1 - mean ln c), layer (the argmax), heads {layer: selected head}, per_layer {layer: value} and confidence (T,)
    of the chosen layer."""
    if len(logprobs) == 0:
        raise ValueError("the answer has no tokens")
    probs = np.exp(np.asarray(logprobs, dtype=np.float64))
    prev = np.asarray(prev, dtype=np.float64)
    heads, per_layer, confidences = {}, {}, {}
    for layer in middle_layers(prev.shape[0]):
        head = int(prev[layer].mean(axis=-1).argmax()) if prev.shape[-1] else 0
        confidence = recurrent_confidence(probs, prev[layer, head], alpha)
        heads[layer], confidences[layer] = head, confidence
        per_layer[layer] = float(1.0 - np.log(confidence).mean())
    layer = max(per_layer, key=per_layer.get)
    return {"value": per_layer[layer], "layer": layer, "heads": heads, "per_layer": per_layer,
            "confidence": confidences[layer].tolist()}


def reduce_rows(rows, own: np.ndarray) -> np.ndarray:
    """UQAC's reduced rows: rows (L, H, n, S) attention of n queries over S keys (numpy or torch), own (n,) each
    query's position. The own key and key 0 are zeroed, each head's row renormalised, and the UQAC_HEADS
    lowest-entropy heads (over all L*H) averaged: (n, S) float64 (computed in float32 torch)."""
    rows = torch.as_tensor(rows).to(torch.float32, copy=True)
    rows[..., torch.arange(rows.shape[2]), torch.as_tensor(own)] = 0.0
    rows[..., 0] = 0.0
    flat = rows.reshape(-1, rows.shape[2], rows.shape[3])
    flat /= flat.sum(dim=-1, keepdim=True) + 1e-12
    entropy = -torch.special.xlogy(flat, flat).sum(dim=-1)  # (L*H, n)
    keep = torch.sort(entropy, dim=0, stable=True).indices[:min(UQAC_HEADS, flat.shape[0])]  # (k, n)
    return torch.gather(flat, 0, keep[:, :, None].expand(-1, -1, flat.shape[2])).mean(dim=0).double().numpy()


def strongest_keys(reduced: np.ndarray, first: int, limits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(keys, weights) (n, TOP_KEYS): for each reduced row (n, S), its strongest keys among positions
    first..limits[r]-1, as indices from `first` (answer-token indices), -1 / 0 where there are fewer."""
    keys = np.full((reduced.shape[0], TOP_KEYS), -1, dtype=np.int64)
    weights = np.zeros((reduced.shape[0], TOP_KEYS))
    for r, limit in enumerate(limits):
        span = reduced[r, first:limit]
        top = np.argsort(-span, kind="stable")[:TOP_KEYS]
        keys[r, :len(top)], weights[r, :len(top)] = top, span[top]
    return keys, weights


def answer_span(content: Sequence[bool], answer_tokens: int) -> list[int]:
    """The last `answer_tokens` content tokens (the final answer), in order; the last token if none is content."""
    picked = [i for i, ok in enumerate(content) if ok][-answer_tokens:]
    return picked or [len(content) - 1]


def attention_chain(keys: np.ndarray, weights: np.ndarray, content: Sequence[bool], span: Sequence[int],
                    threshold: float) -> tuple[list[int], list[float]]:
    """UQAC's backtracking: the chain's token indices (sorted) and their weights (0 for the answer span).

    From the newest tokens, each row's KEYS_PER_SOURCE strongest content keys not yet used as a source add their
    weights to a score; up to BUFFER best-scoring tokens join (below `threshold` only while the chain is shorter
    than len(span) + MIN_CHAIN) and are the next sources; it stops when none joins."""
    chain = {i: 0.0 for i in span}
    minimum = len(span) + MIN_CHAIN
    used: set[int] = set()
    sources = list(span)
    while sources:
        used.update(sources)
        scores: dict[int, float] = {}
        for src in sources:
            taken = 0
            for key, weight in zip(keys[src], weights[src]):
                if key < 0 or weight <= 0 or taken >= KEYS_PER_SOURCE:
                    break
                taken += 1
                if key not in used and key not in chain and content[key]:
                    scores[int(key)] = scores.get(int(key), 0.0) + float(weight)
        picked = []
        for key, score in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:BUFFER]:
            if score < threshold and len(chain) + len(picked) >= minimum:
                break
            picked.append(key)
            chain[key] = score
        sources = picked
    order = sorted(chain)
    return order, [chain[i] for i in order]


def uqac(logprobs: Sequence[float], evidence: AttentionEvidence, answer_tokens: int, threshold: float) -> dict:
    """UQAC confidence: the product of the probabilities of the chain's tokens (answer span included), with the
    chain, its weights, the span and the span-only product."""
    span = answer_span(evidence.content, answer_tokens)
    chain, weights = attention_chain(evidence.keys, evidence.weights, evidence.content, span, threshold)
    logprobs = np.asarray(logprobs, dtype=np.float64)
    return {"value": float(np.exp(logprobs[chain].sum())), "chain": chain, "weights": weights, "answer_span": span,
            "chain_probs": np.exp(logprobs[chain]).tolist(), "answer_probability": float(np.exp(logprobs[span].sum()))}
