"""Per-token uncertainty from next-token logits.

Pure functions: tensors in, plain numbers out. All entropies are in nats. Probabilities are the softmax of the
model's logits divided by the temperature the caller names (1.0 for greedy decoding), over the whole vocabulary:
no top-k / top-p truncation is applied to the distribution that is measured.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch

from backend.memory import float64_budget_bytes, rows_within

WORKSPACE_BYTES_PER_ENTRY = 16  # two reused float64 (rows, V) buffers: the log-probabilities and the probabilities


@dataclass(frozen=True)
class TokenStatsArrays:
    """Statistics for T scored positions, each a 1-D float64/int64 tensor of length T (top-k: T x k).

    prob, logprob: probability / natural-log probability of the token that was chosen.
    entropy: Shannon entropy of the next-token distribution, nats, in [0, log V].
    rank: 1-based rank of the chosen token (1 = the most likely; ties share the better rank).
    margin: p(top-1) - p(top-2), in [0, 1].
    top_ids, top_probs: the k most likely tokens and their probabilities, most likely first.
    """

    prob: torch.Tensor
    logprob: torch.Tensor
    entropy: torch.Tensor
    rank: torch.Tensor
    margin: torch.Tensor
    top_ids: torch.Tensor
    top_probs: torch.Tensor


def entropy_from_logprobs(logprobs: torch.Tensor) -> torch.Tensor:
    """Shannon entropy in nats of each row of log-probabilities.

    logprobs: (..., V) normalised log-probabilities. Returns (...). Terms with p = 0 contribute 0.
    """
    probs = logprobs.exp()
    return -(probs * logprobs.nan_to_num(neginf=0.0)).sum(dim=-1)


def token_stats(logits: torch.Tensor, chosen_ids: torch.Tensor, *, temperature: float = 1.0,
                top_k: int = 5, budget_bytes: Optional[int] = None) -> TokenStatsArrays:
    """Uncertainty statistics of the chosen tokens under next-token distributions.

    logits: (T, V) raw logits; row t is the distribution the model predicted for chosen_ids[t].
    chosen_ids: (T,) token ids. temperature > 0 divides the logits before the softmax.
    top_k: number of alternatives to report, clipped to V.
    budget_bytes: bytes of float64 workspace (WORKSPACE_BYTES_PER_ENTRY per row entry); rows go through it in
    chunks of rows_within(budget_bytes, V, T, ...) positions. None: backend.memory.float64_budget_bytes of the
    logits' device, a share of its free memory. The chunk size changes no value, except the entropy's last bit
    where a chunk is one row (torch sums a single row in another order).
    """
    if logits.ndim != 2 or chosen_ids.ndim != 1 or logits.shape[0] != chosen_ids.shape[0]:
        raise ValueError(f"expected logits (T, V) and ids (T,), got {tuple(logits.shape)} and {tuple(chosen_ids.shape)}")
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    k = max(1, min(top_k, logits.shape[1]))
    budget = float64_budget_bytes(logits.device) if budget_bytes is None else budget_bytes
    rows = rows_within(budget, logits.shape[1], logits.shape[0], WORKSPACE_BYTES_PER_ENTRY)
    workspace = (torch.empty(rows, logits.shape[1], dtype=torch.float64, device=logits.device),
                 torch.empty(rows, logits.shape[1], dtype=torch.float64, device=logits.device))
    parts = [_chunk_stats(logits[s:s + rows], chosen_ids[s:s + rows], temperature, k, workspace)
             for s in range(0, logits.shape[0], rows)]
    if not parts:
        parts = [_chunk_stats(logits, chosen_ids, temperature, k, workspace)]
    return concat_stats(parts)


def ranks_from_top(logits: torch.Tensor, ids: torch.Tensor, top_values: torch.Tensor) -> torch.Tensor:
    """1-based rank of ids (n,) in each row of logits (n, V): 1 + the number of strictly larger entries.

    top_values: (n, m) the m >= 1 largest entries of each row, largest first. Where the chosen entry is at least
    the m-th largest, every larger entry is among them, so the count is read there; only the other rows are
    compared against all V entries. Any strictly increasing map of the logits (x / T - c) keeps the ranks.
    """
    chosen = logits.gather(1, ids[:, None])
    rank = (top_values > chosen).sum(dim=-1) + 1
    outside = (chosen[:, 0] < top_values[:, -1]).nonzero()[:, 0]
    if len(outside):
        rank[outside] = (logits[outside] > chosen[outside]).sum(dim=-1) + 1
    return rank


def _chunk_stats(logits: torch.Tensor, ids: torch.Tensor, temperature: float, k: int,
                 workspace: tuple[torch.Tensor, torch.Tensor]) -> TokenStatsArrays:
    """token_stats for one chunk of n rows, computed in float64 on the logits' device, returned on the CPU.

    workspace: two (>= n, V) float64 buffers that every chunk reuses, so the full-vocabulary float64 values exist
    only there: torch.log_softmax of logits / temperature written into the first, its exp into the second. The
    top-k and the ranks are taken on the logits themselves (dividing by T > 0 and shifting keep the order of
    distinct float32 values), so the float64 log-probabilities are only gathered at the k + 1 ids that matter.
    """
    n = logits.shape[0]
    scaled, probs = workspace[0][:n], workspace[1][:n]
    ids = ids.to(logits.device)
    top_values, top_ids = logits.topk(min(max(k, 2), logits.shape[1]), dim=-1)
    rank = ranks_from_top(logits, ids, top_values)
    scaled.copy_(logits)
    if temperature != 1.0:
        scaled.div_(temperature)
    logprobs = torch.log_softmax(scaled, dim=-1, out=probs)
    chosen_logprob = logprobs.gather(1, ids[:, None]).squeeze(1)
    top_probs = logprobs.gather(1, top_ids).exp()
    margin = top_probs[:, 0] - top_probs[:, 1] if logits.shape[1] > 1 else top_probs[:, 0]
    torch.exp(logprobs, out=scaled)
    entropy = -scaled.mul_(logprobs.nan_to_num_(neginf=0.0)).sum(dim=-1)
    return TokenStatsArrays(
        prob=chosen_logprob.exp().cpu(),
        logprob=chosen_logprob.cpu(),
        entropy=entropy.cpu(),
        rank=rank.cpu(),
        margin=margin.cpu(),
        top_ids=top_ids[:, :k].cpu(),
        top_probs=top_probs[:, :k].cpu(),
    )


def concat_stats(parts: list[TokenStatsArrays]) -> TokenStatsArrays:
    """The statistics of consecutive runs of positions, joined in order (each field concatenated on dim 0)."""
    if len(parts) == 1:
        return parts[0]
    return TokenStatsArrays(*(torch.cat([getattr(p, f) for p in parts]) for f in TokenStatsArrays.__dataclass_fields__))
