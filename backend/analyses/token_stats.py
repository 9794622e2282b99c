"""Per-token uncertainty from next-token logits.

Pure functions: tensors in, plain numbers out. All entropies are in nats. Probabilities are the softmax of the
model's logits divided by the temperature the caller names (1.0 for greedy decoding), over the whole vocabulary:
no top-k / top-p truncation is applied to the distribution that is measured.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

CHUNK_POSITIONS = 32  # positions per float64 pass: (32, V) copies instead of (T, V) bound the peak memory


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
                top_k: int = 5) -> TokenStatsArrays:
    """Uncertainty statistics of the chosen tokens under next-token distributions.

    logits: (T, V) raw logits; row t is the distribution the model predicted for chosen_ids[t].
    chosen_ids: (T,) token ids. temperature > 0 divides the logits before the softmax.
    top_k: number of alternatives to report, clipped to V. Rows are processed in chunks to bound memory.
    """
    if logits.ndim != 2 or chosen_ids.ndim != 1 or logits.shape[0] != chosen_ids.shape[0]:
        raise ValueError(f"expected logits (T, V) and ids (T,), got {tuple(logits.shape)} and {tuple(chosen_ids.shape)}")
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    k = max(1, min(top_k, logits.shape[1]))
    rows = max(1, min(CHUNK_POSITIONS, logits.shape[0]))
    workspace = (torch.empty(rows, logits.shape[1], dtype=torch.float64, device=logits.device),
                 torch.empty(rows, logits.shape[1], dtype=torch.float64, device=logits.device))
    parts = [_chunk_stats(logits[s:s + rows], chosen_ids[s:s + rows], temperature, k, workspace)
             for s in range(0, logits.shape[0], rows)]
    if not parts:
        parts = [_chunk_stats(logits, chosen_ids, temperature, k, workspace)]
    return concat_stats(parts)


def _chunk_stats(logits: torch.Tensor, ids: torch.Tensor, temperature: float, k: int,
                 workspace: tuple[torch.Tensor, torch.Tensor]) -> TokenStatsArrays:
    """token_stats for one chunk of n rows, computed in float64 on the logits' device, returned on the CPU.

    workspace: two (>= n, V) float64 buffers that every chunk reuses, so the full-vocabulary float64 values exist
    only there (log-softmax as x - max - log sum exp(x - max), computed in place, as torch's log_softmax does).
    """
    n = logits.shape[0]
    logprobs, probs = workspace[0][:n], workspace[1][:n]
    ids = ids.to(logits.device)
    logprobs.copy_(logits).div_(temperature)
    logprobs.sub_(logprobs.amax(dim=-1, keepdim=True))
    rank = (logprobs > logprobs.gather(1, ids[:, None])).sum(dim=-1) + 1
    torch.exp(logprobs, out=probs)
    logprobs.sub_(probs.sum(dim=-1, keepdim=True).log_())
    chosen_logprob = logprobs.gather(1, ids[:, None]).squeeze(1)
    top_logprobs, top_ids = logprobs.topk(min(max(k, 2), logits.shape[1]), dim=-1)
    top_probs = top_logprobs.exp()
    margin = top_probs[:, 0] - top_probs[:, 1] if logits.shape[1] > 1 else top_probs[:, 0]
    torch.exp(logprobs, out=probs)
    entropy = -probs.mul_(logprobs.nan_to_num_(neginf=0.0)).sum(dim=-1)
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
