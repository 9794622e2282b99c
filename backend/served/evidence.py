"""Token evidence from a served model: each answer token's probability, its top-k alternatives, its rank and
bounds on the entropy of its position, read from the engine's log-probabilities.

The server returns, per position, the chosen token's log-probability and the k most likely tokens (k <= 20 on
OpenAI's API and vLLM's default --max-logprobs). Nothing else of the distribution is known, so the entropy is an
interval (backend.analyses.topk_entropy.entropy_bounds: provably valid, the tightest possible) and the rank is
known only inside the top-k, unless the engine reports it (vLLM's prompt_logprobs do). Log-probabilities are the
server's: vLLM's default logprobs mode reports them before temperature, top-p or penalties (temperature 1).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

from backend.analyses.topk_entropy import EntropyBounds, entropy_bounds
from backend.errors import UserInputError

MIN_TOP_LOGPROBS = 2
MAX_TOP_LOGPROBS = 20
SAME_LOGPROB = 1e-6
TOKEN_ID_PREFIX = "token_id:"


@dataclass(frozen=True)
class Alternative:
    """A token the server ranked at one position: its text, id (None when the server gives none), log-prob."""

    text: str
    logprob: float
    id: Optional[int] = None

    @property
    def prob(self) -> float:
        return math.exp(self.logprob)


@dataclass(frozen=True)
class TokenEvidence:
    """One answer token as a served model sees it.

    text / id: the token (id None when the server gives none); logprob (nats) and prob: the server's numbers for
    it; top: the top-k alternatives, most likely first; rank: 1-based, None meaning beyond the top-k (not
    known); entropy: bounds in nats on the entropy of the position's full distribution.
    """

    text: str
    id: Optional[int]
    logprob: float
    top: tuple[Alternative, ...]
    rank: Optional[int]
    entropy: EntropyBounds

    @property
    def prob(self) -> float:
        return math.exp(self.logprob)

    @property
    def entropy_bounds(self) -> tuple[float, float]:
        """[lower, upper] in nats; equal when exact."""
        return (self.entropy.lower, self.entropy.upper)

    @property
    def exact(self) -> dict[str, bool]:
        """Which numbers are exact: prob and logprob always (the server's own); rank when known; entropy when the
        top-k leave no mass unseen (else it is the bounds' midpoint, an estimate)."""
        return {"prob": True, "logprob": True, "rank": self.rank is not None, "entropy": self.entropy.exact}


@dataclass(frozen=True)
class Sample:
    """One generated answer: its text, tokens, token ids (None without vLLM's return_token_ids) and why it
    stopped ("stop" = an end token, "length" = max_tokens)."""

    text: str
    tokens: tuple[TokenEvidence, ...]
    token_ids: Optional[tuple[int, ...]]
    finish_reason: Optional[str]

    @property
    def logprob(self) -> float:
        """The answer's log-probability (nats): the sum of its tokens'."""
        return math.fsum(t.logprob for t in self.tokens)


@dataclass(frozen=True)
class Generation:
    """K answers to one prompt from one request: prompt_token_ids as the engine tokenised the chat (None when
    the server does not say), top_logprobs = k, the sampling temperature asked for (0 = greedy)."""

    model: str
    prompt_token_ids: Optional[tuple[int, ...]]
    samples: tuple[Sample, ...]
    top_logprobs: int
    temperature: float


@dataclass(frozen=True)
class ScoredAnswer:
    """A given answer scored by the engine: the prompt's ids (chat template applied), the answer's ids and one
    TokenEvidence per answer id (ranks exact: vLLM reports them)."""

    model: str
    prompt_token_ids: tuple[int, ...]
    answer_token_ids: tuple[int, ...]
    tokens: tuple[TokenEvidence, ...]


def check_top_logprobs(k: int) -> int:
    """k if 2 <= k <= 20, else a UserInputError saying the allowed range (20: what OpenAI-compatible servers
    return at most; 2: vLLM lists the chosen token first, so one entry says nothing about the others)."""
    if not MIN_TOP_LOGPROBS <= k <= MAX_TOP_LOGPROBS:
        raise UserInputError(f"top_logprobs must be from {MIN_TOP_LOGPROBS} to {MAX_TOP_LOGPROBS} (what "
                             f"OpenAI-compatible servers return at most), not {k}")
    return k


def _same(a: Alternative, b: Alternative) -> bool:
    """Whether two entries are the same token: by id when both have one, else by text and log-probability."""
    if a.id is not None and b.id is not None:
        return a.id == b.id
    return a.text == b.text and abs(a.logprob - b.logprob) <= SAME_LOGPROB


def token_evidence(chosen: Alternative, listed: Sequence[Alternative], vocab_size: int, *, true_top_k: bool,
                   rank: Optional[int] = None) -> TokenEvidence:
    """Evidence for one position from the server's list of alternatives (any order, at least 2).

    true_top_k: the list is the position's k most likely tokens (OpenAI's API; vLLM's prompt_logprobs read by
    rank). vLLM's chat endpoint instead lists the chosen token first and then the most likely others, k in all,
    so a chosen token beyond the top-k pushes the k-th out (true_top_k=False). Read safely either way:
    - chosen not listed: the list is the top-k and the chosen token lies beyond it (rank None);
    - chosen listed, and the list is the top-k or the chosen token is more likely than some other listed one:
      the list is the true top-k and the rank is counted in it;
    - otherwise (vLLM, chosen the least likely listed): it may be the k-th or lie beyond, so the bounds take only
      the others as the top (unseen tokens at most the least of them: valid either way) and the rank is None.
    `rank`, the engine's own rank of the chosen token (vLLM's prompt_logprobs), overrides the one read here.
    """
    ordered = tuple(sorted(listed, key=lambda a: -a.logprob))
    others = [a for a in ordered if not _same(a, chosen)]
    if not others:
        raise UserInputError("one alternative per token says nothing about the rest of the distribution; ask for "
                             "top_logprobs >= 2")
    if len(others) == len(ordered):
        found, bounds = None, entropy_bounds([a.logprob for a in ordered], vocab_size, (chosen.logprob,))
    elif true_top_k or chosen.logprob > others[-1].logprob:
        found = 1 + sum(a.logprob > chosen.logprob for a in others)
        bounds = entropy_bounds([a.logprob for a in ordered], vocab_size)
    else:
        found, bounds = None, entropy_bounds([a.logprob for a in others], vocab_size, (chosen.logprob,))
    return TokenEvidence(text=chosen.text, id=chosen.id, logprob=chosen.logprob, top=ordered,
                         rank=rank if rank is not None else found, entropy=bounds)


def split_token(token: str) -> tuple[str, Optional[int]]:
    """A server's token string as (text, id): vLLM's return_tokens_as_token_ids gives "token_id:123"."""
    if token.startswith(TOKEN_ID_PREFIX) and token[len(TOKEN_ID_PREFIX):].isdigit():
        return "", int(token[len(TOKEN_ID_PREFIX):])
    return token, None


def entry_text(entry: dict) -> str:
    """The text of a chat logprobs entry: its UTF-8 bytes when given (exact), else its token string."""
    raw = entry.get("bytes")
    if raw:
        return bytes(raw).decode("utf-8", errors="replace")
    return split_token(entry.get("token", ""))[0]


def chat_alternative(entry: dict, token_id: Optional[int] = None) -> Alternative:
    """One entry of a chat completion's logprobs (token, logprob, bytes) as an Alternative."""
    text, parsed_id = split_token(entry.get("token", ""))
    return Alternative(text=entry_text(entry), logprob=float(entry["logprob"]),
                       id=token_id if token_id is not None else parsed_id)


def parse_chat_choice(choice: dict, vocab_size: int, label: str, true_top_k: bool) -> Sample:
    """A chat completion choice (with logprobs) as a Sample; UserInputError when the server left logprobs out.
    true_top_k: whether the server's top_logprobs are the true top-k (OpenAI) or chosen-first (vLLM)."""
    content = (choice.get("logprobs") or {}).get("content")
    text = (choice.get("message") or {}).get("content") or ""
    if content is None or (text and not content):
        raise UserInputError(f"the server of {label} returned no log-probabilities; token analysis needs a server "
                             f"that honours `logprobs` and `top_logprobs` (vLLM and OpenAI's API do)")
    ids = choice.get("token_ids")
    tokens = []
    for i, entry in enumerate(content):
        top = entry.get("top_logprobs") or []
        if not top:
            raise UserInputError(f"the server of {label} returned no top log-probabilities; it must honour "
                                 f"`top_logprobs` >= 1 for entropy bounds")
        chosen = chat_alternative(entry, ids[i] if ids and i < len(ids) else None)
        tokens.append(token_evidence(chosen, [chat_alternative(t) for t in top], vocab_size,
                                     true_top_k=true_top_k))
    return Sample(text=text, tokens=tuple(tokens), token_ids=tuple(ids) if ids else None,
                  finish_reason=choice.get("finish_reason"))


def prompt_position_evidence(position: dict, token_id: int, k: int, vocab_size: int) -> TokenEvidence:
    """Evidence for one position of vLLM's prompt_logprobs: `position` maps str(token id) to
    {"logprob", "rank", "decoded_token"} for the top-k plus the actual token (which may rank beyond k)."""
    entries = {int(tid): value for tid, value in position.items()}
    if token_id not in entries:
        raise UserInputError(f"the server's prompt log-probabilities lack token {token_id} at its position; "
                             f"is it vLLM with prompt_logprobs?")

    def alternative(tid: int) -> Alternative:
        return Alternative(text=entries[tid].get("decoded_token") or "", logprob=float(entries[tid]["logprob"]),
                           id=tid)
    top = [alternative(tid) for tid, value in entries.items() if value.get("rank") is not None and value["rank"] <= k]
    rank = entries[token_id].get("rank")
    return token_evidence(alternative(token_id), top, vocab_size, true_top_k=True,
                          rank=int(rank) if rank is not None else None)
