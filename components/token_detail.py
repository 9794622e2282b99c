"""Detail of one selected token: its numbers and the model's top alternatives at that step."""
from __future__ import annotations

from typing import Callable, Optional

import plotly.graph_objects as go
import streamlit as st

from backend.schemas import Alternative, TokenScore
from components import figure_cache
from components.figure_config import figure_config
from components.measures import entropy_label, is_token, rank_label
from components.text_safety import escape_plotly, markdown_literal

CHOSEN_COLOUR = "#d7301f"
OTHER_COLOUR = "#9fb7d0"


def bar_rows(token: TokenScore) -> list[tuple[str, float, bool]]:
    """(label, probability, is_chosen) for the top-k alternatives in rank order, plus the produced token with its
    rank when it is not among them (an unlikely token: sampled, or given in a scored answer)."""
    rows = [(f"{rank}. {a.text!r}", a.prob, is_token(a, token)) for rank, a in enumerate(token.top_k, start=1)]
    if not any(is_token(a, token) for a in token.top_k):
        rows.append((f"{rank_label(token)}. {token.text!r}", token.prob, True))
    return rows


def alternatives_figure(token: TokenScore) -> go.Figure:
    """Horizontal bars of the top-k alternatives' probabilities, most likely on top; the produced token in red."""
    rows = list(reversed(bar_rows(token)))
    figure = go.Figure(go.Bar(
        orientation="h", x=[prob for _, prob, _ in rows], y=[f"{escape_plotly(label)} " for label, _, _ in rows],
        marker_color=[CHOSEN_COLOUR if chosen else OTHER_COLOUR for _, _, chosen in rows],
        text=[f"{prob:.3f}" for _, prob, _ in rows], textposition="outside", cliponaxis=False,
        hovertemplate="%{y}: %{x:.4f}<extra></extra>",
    ))
    figure.update_layout(height=60 + 26 * len(rows), margin=dict(l=8, r=40, t=8, b=8),
                         xaxis=dict(range=[0, 1], title="probability"), yaxis=dict(automargin=True))
    return figure


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


def render_continue_buttons(token: TokenScore, *, key: str, on_continue: Callable[[Alternative], None]) -> None:
    """One "Continue from here" button per alternative the answer did not take: on_continue(alternative) runs
    as its callback, then the whole page reruns (to make the branch outside this view's fragment)."""
    st.markdown("**What if?** Keep the answer up to here, force an alternative, and generate the rest:")
    for rank, alternative in branch_choices(token):
        label = f"Continue from here with {alternative.text!r} (p = {alternative.prob:.3f})"
        if st.button(markdown_literal(label), key=f"{key}_continue_{rank}", on_click=on_continue,
                     args=(alternative,)):
            st.rerun()


def render_token_detail(token: TokenScore, *, key: str, mode: str = "generate", do_sample: bool = False,
                        on_continue: Optional[Callable[[Alternative], None]] = None) -> None:
    """The selected token's numbers as metrics and its alternatives as bars (the produced token in red).

    mode and do_sample: how the answer was made (TextAnalysis.mode, .do_sample), for the sentence on its origin.
    on_continue: when given, a "Continue from here" button per other alternative calls it with that alternative.
    """
    st.markdown(f"**Selected token** {markdown_literal(repr(token.text))} at position {token.position}"
                + (" (special token)" if token.special else ""))
    left, middle, right = st.columns(3)
    left.metric("Probability", f"{token.prob:.3f}", help="p of this token; higher = more confident")
    middle.metric("Entropy (nats)", entropy_label(token),
                  help="spread of the distribution; lower = more confident" + (
                      ". A served model gives only its top-k, so this is an estimate: the midpoint of bounds that "
                      "are provably valid (each unseen token is at most as likely as the k-th)"
                      if token.entropy_bounds is not None else ""))
    right.metric("Rank", rank_label(token), help="1 = the model's first choice")
    note = origin_note(token, mode=mode, do_sample=do_sample)
    if note:
        st.caption(markdown_literal(note))
    st.plotly_chart(figure_cache.alternatives_figure(figure_cache.tokens_digest([token]), token),
                    key=f"{key}_alternatives", config=figure_config("alternatives"),
                    width="stretch")
    if on_continue is not None:
        render_continue_buttons(token, key=key, on_continue=on_continue)
