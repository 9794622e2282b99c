"""Detail of one selected token: the model's top alternatives at that step, where the token came from, and the
alternatives a branch could force (drawn in the browser by components.token_client)."""
from __future__ import annotations

from backend.schemas import Alternative, TokenScore
from components.measures import is_token, rank_label


def bar_rows(token: TokenScore) -> list[tuple[str, float, bool]]:
    """(label, probability, is_chosen) for the top-k alternatives in rank order, plus the produced token with its
    rank when it is not among them (an unlikely token: sampled, or given in a scored answer)."""
    rows = [(f"{rank}. {a.text!r}", a.prob, is_token(a, token)) for rank, a in enumerate(token.top_k, start=1)]
    if not any(is_token(a, token) for a in token.top_k):
        rows.append((f"{rank_label(token)}. {token.text!r}", token.prob, True))
    return rows


def origin_note(token: TokenScore, *, mode: str, do_sample: bool) -> str:
    """Where the token came from and, when it is not the model's first choice, how it got there ("" when there
    is nothing to say: a generated first choice).

    mode: TextAnalysis.mode, "score" (the user gave the answer) or "generate"; do_sample: sampled, not greedy.
    """
    parts = ["Given in the answer you supplied (scored, not chosen by the model)."] if mode == "score" else []
    if token.forced:
        parts.append("Forced, not chosen by the model: it belongs to this branch's beginning (the tokens kept from "
                     "the answer it branched from, then the alternative picked there); its numbers are what the "
                     "model gives it at this step.")
    if (token.rank is None or token.rank > 1) and token.top_k:
        first = token.top_k[0]
        behind = (f"The model's first choice was {first.text!r} (p = {first.prob:.3f}); this token is rank "
                  f"{rank_label(token)}")
        if mode == "score" or token.forced:
            parts.append(f"{behind}.")
        elif do_sample:
            parts.append(f"{behind}, sampled from the distribution.")
        else:
            parts.append(f"{behind}: greedy decoding picked it, and the scoring pass that computed these numbers "
                         f"ranks a near-tie above it.")
    if token.text == "":
        parts.append("It is a byte piece of a character that a later token completes, so it has no text alone.")
    return " ".join(parts)


def branch_choices(token: TokenScore) -> list[tuple[int, Alternative]]:
    """(rank, alternative) of the top-k alternatives a branch could force: all but the token the answer has."""
    return [(rank, a) for rank, a in enumerate(token.top_k, start=1) if not is_token(a, token)]
