"""Saliency of input tokens for targets at many answer positions at once: gradients, input x gradient,
integrated gradients and feature ablation, in embedding space.

Pure functions on tensors. `score_fn(x)` maps input embeddings x (B, T, D) to the N targets' values (B, N), one
per explained answer token, all from the same forward pass over the whole sequence. A causal LM's target at
answer position p depends only on the inputs before p, so one pass (and one batched backward pass per target)
gives every target the scores a separate pass over its own prefix would give: that is the batching.
Gradients of N targets are vector-Jacobian products batched with vmap (`is_grads_batched`); `chunk` bounds the
(target, sequence) pairs of one backward pass, and so its memory.

Papers: gradient saliency, Simonyan et al., "Deep Inside Convolutional Networks" (ICLR workshop 2014), its L2
norm over the embedding as in Li et al., "Visualizing and Understanding Neural Models in NLP" (NAACL 2016);
input x gradient, Shrikumar et al., "Not Just a Black Box" (2016); integrated gradients, Sundararajan et al.,
"Axiomatic Attribution for Deep Networks" (ICML 2017), with captum's Gauss-Legendre quadrature; feature
ablation (occlusion), Zeiler & Fergus, "Visualizing and Understanding Convolutional Networks" (ECCV 2014).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import torch
from captum.attr._utils.approximation_methods import approximation_parameters

ScoreFn = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class IntegratedGradients:
    """scores (N, T): attributions summed over the embedding; delta (N,): sum of scores - (f(x) - f(baseline)),
    the completeness gap (0 for an exact integral); at_input, at_baseline (N,): f(x) and f(baseline)."""

    scores: torch.Tensor
    delta: torch.Tensor
    at_input: torch.Tensor
    at_baseline: torch.Tensor


def per_target_gradients(score_fn: ScoreFn, inputs: torch.Tensor, weights: torch.Tensor, *,
                         chunk: int) -> torch.Tensor:
    """(N, T, D) float32: for each target n, sum over the batch b of weights[b] * d score[b, n] / d inputs[b].

    inputs: (B, T, D) embeddings (a leaf; gradients are taken with respect to it). weights: (B,).
    One forward pass; N vector-Jacobian products, batched so that each backward pass covers at most `chunk`
    (target, sequence) pairs (memory grows with both).
    """
    inputs = inputs.detach().requires_grad_(True)
    scores = score_fn(inputs)
    batch, n_targets = scores.shape
    targets_per_pass = max(1, chunk // batch)
    parts = []
    for start in range(0, n_targets, targets_per_pass):
        stop = min(n_targets, start + targets_per_pass)
        selector = torch.zeros(stop - start, batch, n_targets, dtype=scores.dtype, device=scores.device)
        selector[torch.arange(stop - start), :, torch.arange(start, stop)] = weights.to(scores)
        grads = torch.autograd.grad(scores, inputs, selector, is_grads_batched=True, retain_graph=stop < n_targets)[0]
        parts.append(grads.float().sum(dim=1))
    return torch.cat(parts)


def gradient_norm(score_fn: ScoreFn, embeddings: torch.Tensor, *, chunk: int) -> torch.Tensor:
    """(N, T) L2 norm over the embedding dimension of d target / d embedding; >= 0. embeddings: (T, D)."""
    grads = per_target_gradients(score_fn, embeddings[None], torch.ones(1), chunk=chunk)
    return grads.norm(dim=-1)


def input_x_gradient(score_fn: ScoreFn, embeddings: torch.Tensor, *, chunk: int) -> torch.Tensor:
    """(N, T) sum over the embedding dimension of embedding * d target / d embedding (signed)."""
    grads = per_target_gradients(score_fn, embeddings[None], torch.ones(1), chunk=chunk)
    return (grads * embeddings.float()).sum(dim=-1)


def quadrature(steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(alphas, weights), each (steps,) float64: captum's Gauss-Legendre nodes on [0, 1] and their weights."""
    step_sizes, alphas = approximation_parameters("gausslegendre")
    return torch.tensor(alphas(steps), dtype=torch.float64), torch.tensor(step_sizes(steps), dtype=torch.float64)


def integrated_gradients(score_fn: ScoreFn, embeddings: torch.Tensor, baseline: torch.Tensor, *, steps: int,
                         alpha_batch: int, chunk: int) -> IntegratedGradients:
    """Integrated gradients of every target along the straight path baseline -> embeddings (both (T, D)).

    scores[n, t] = sum_d (x - x')[t, d] * sum_k w_k d f_n(x' + a_k (x - x')) / dx[t, d], with the k = 1..steps
    Gauss-Legendre nodes a_k and weights w_k. The path points are run alpha_batch at a time (at most `chunk`).
    """
    alphas, weights = quadrature(steps)
    difference = (embeddings - baseline).float()
    total = torch.zeros(0)
    alpha_batch = max(1, min(alpha_batch, chunk))
    for start in range(0, steps, alpha_batch):
        a = alphas[start:start + alpha_batch].to(embeddings)
        points = baseline[None] + a[:, None, None] * (embeddings - baseline)[None]
        part = per_target_gradients(score_fn, points, weights[start:start + alpha_batch], chunk=chunk)
        total = part if total.numel() == 0 else total + part
    scores = (total * difference).sum(dim=-1)
    with torch.no_grad():
        ends = score_fn(torch.stack([embeddings, baseline])).double()
    delta = scores.double().sum(dim=-1) - (ends[0] - ends[1])
    return IntegratedGradients(scores=scores, delta=delta, at_input=ends[0], at_baseline=ends[1])


def feature_ablation(score_fn: ScoreFn, embeddings: torch.Tensor, baseline: torch.Tensor, *, stop: int,
                     batch: int, reference: Optional[torch.Tensor] = None) -> torch.Tensor:
    """(N, T) f(x) - f(x with token t's embedding replaced by the baseline's), for t < stop; 0 from stop on.

    One pass per ablated token, `batch` sequences at a time; every target reads the same passes. reference: (N,)
    f(x) when the caller has it already (one pass fewer).
    """
    with torch.no_grad():
        reference = score_fn(embeddings[None])[0].double() if reference is None else reference.double()
        columns = []
        for start in range(0, stop, batch):
            positions = torch.arange(start, min(stop, start + batch))
            ablated = embeddings[None].repeat(len(positions), 1, 1)
            ablated[torch.arange(len(positions)), positions] = baseline[positions]
            columns.append(reference[None] - score_fn(ablated).double())
        scores = torch.zeros(reference.shape[0], embeddings.shape[0], dtype=torch.float64)
        if columns:
            scores[:, :stop] = torch.cat(columns).T.cpu()
    return scores


def max_abs_divisor(row: torch.Tensor) -> float:
    """The largest |score| of a row (0 for an empty row): dividing by it gives the strongest input token +-1."""
    return float(row.abs().max()) if row.numel() else 0.0


def l1_divisor(row: torch.Tensor) -> float:
    """The sum of a row's |scores|: dividing by it makes them shares summing to 1."""
    return float(row.abs().sum())


def no_divisor(row: torch.Tensor) -> float:
    """1: the raw scores."""
    return 1.0


def normalise_rows(rows: list[torch.Tensor], divisor: Callable[[torch.Tensor], float]
                   ) -> tuple[list[torch.Tensor], list[float]]:
    """Scale each row for display; returns (scaled rows, the divisor of each row, so raw = scaled * divisor).

    divisor(row) -> the number a row is divided by (e.g. max_abs_divisor); a row whose divisor is not positive
    (an all-zero row) keeps divisor 1.
    """
    scaled, divisors = [], []
    for row in rows:
        value = divisor(row)
        value = value if value > 0 else 1.0
        scaled.append(row / value)
        divisors.append(value)
    return scaled, divisors


def causal_groups(needed: Sequence[int], max_groups: int = 8) -> list[list[int]]:
    """Targets split into groups that each run on the shortest prefix they need: a causal LM's target n depends
    on its first needed[n] positions only, so a group of targets runs its forward and backward passes over the
    first max(needed) positions of its members, not over all of them.

    needed: (N,) positions each target needs. Returns lists of target indices (each group sorted by need),
    the split into 1..max_groups runs of equal size (targets sorted by need) whose cost, sum over groups of
    length x (1 forward + 2 per target for its vector-Jacobian product), is least. Pure."""
    order = sorted(range(len(needed)), key=lambda n: needed[n])
    best, best_cost = [order], float("inf")
    for count in range(1, min(max_groups, len(order)) + 1):
        groups = [part for part in (order[len(order) * g // count:len(order) * (g + 1) // count]
                                    for g in range(count)) if part]
        cost = sum(max(needed[n] for n in part) * (1 + 2 * len(part)) for part in groups)
        if cost < best_cost:
            best, best_cost = groups, cost
    return best
