"""The analysed answer split into claims, each shaded by a chosen claim score, with a table of every claim's
scores. A pure builder (claim_html) and a thin render_claims; every widget key starts with `key`."""
from __future__ import annotations

import html
from typing import Optional, Sequence

import streamlit as st

from backend.schemas.sequence import ClaimScore, SequenceAnalysis

CLAIM_SCORES = {  # score -> (label, higher is, how the shade is made)
    "ccp": ("Claim-conditioned probability", "confident", "1 - CCP"),
    "luq_support": ("LUQ support by the samples", "confident", "1 - support"),
    "mean_token_entropy": ("Mean token entropy (nats)", "uncertain", "divided by the answer's largest"),
    "max_token_entropy": ("Max token entropy (nats)", "uncertain", "divided by the answer's largest"),
    "mean_neg_logprob": ("Mean -log p (nats)", "uncertain", "divided by the answer's largest"),
}


def claim_doubt(claims: Sequence[ClaimScore], score: str) -> list[Optional[float]]:
    """How doubtful each claim is by `score`, in [0, 1] (1 = the most doubtful): 1 - value for a confidence in
    [0, 1], else the value divided by the largest among the claims; None where the claim lacks the score."""
    values = [c.scores.get(score) for c in claims]
    if CLAIM_SCORES[score][1] == "confident":
        return [None if v is None else min(1.0, max(0.0, 1.0 - v)) for v in values]
    top = max((v for v in values if v is not None), default=0.0)
    return [None if v is None else (v / top if top > 0 else 0.0) for v in values]


def shade(doubt: Optional[float]) -> str:
    """A background colour: white-green for 0, red for 1, grey for no score."""
    if doubt is None:
        return "#e0e0e0"
    red, green = int(200 + 55 * doubt), int(245 - 145 * doubt)
    return f"#{red:02x}{green:02x}{int(220 - 120 * doubt):02x}"


def claim_html(answer: str, claims: Sequence[ClaimScore], score: str) -> str:
    """The answer as HTML, each claim a <span> shaded by its doubt under `score` with its value in the title; the
    text between claims unshaded; everything escaped."""
    parts, position = [], 0
    for claim, doubt in zip(claims, claim_doubt(claims, score)):
        parts.append(html.escape(answer[position:claim.start]))
        value = claim.scores.get(score)
        title = f"{CLAIM_SCORES[score][0]}: {'not computed' if value is None else f'{value:.3f}'}"
        parts.append(f'<span title="{html.escape(title)}" style="background:{shade(doubt)};padding:1px 2px;'
                     f'border-radius:3px">{html.escape(answer[claim.start:claim.end])}</span>')
        position = claim.end
    parts.append(html.escape(answer[position:]))
    return '<div style="line-height:1.9;white-space:pre-wrap">' + "".join(parts) + "</div>"


def claim_table(claims: Sequence[ClaimScore]) -> list[dict]:
    """One row per claim: its number, text, every score it has (the claim scores first, in CLAIM_SCORES' order),
    the samples supporting it and its token span."""
    return [{"#": n, "Claim": c.text,
             **{CLAIM_SCORES[name][0]: c.scores[name] for name in CLAIM_SCORES if name in c.scores},
             **({"Samples supporting": c.supported_by} if c.supported_by is not None else {}),
             "Tokens": f"{c.token_start}–{c.token_end}"}
            for n, c in enumerate(claims, 1)]


def token_rows(result: SequenceAnalysis, claim: ClaimScore) -> list[dict]:
    """One row per token of a claim: its text, probability, entropy and, when ccp ran, its token CCP (the mass of
    the alternatives keeping the claim's meaning over those keeping or changing it)."""
    ccp = next((s for s in result.scores if s.name == "ccp"), None)
    per_token = ccp.details.get("token_ccp", []) if ccp is not None else []
    rows = []
    for i in range(claim.token_start, claim.token_end):
        token = result.text.tokens[i]
        row = {"Token": repr(token.text), "p": token.prob, "Entropy (nats)": token.entropy}
        if i < len(per_token):
            row["Token CCP"] = per_token[i]
        rows.append(row)
    return rows


def render_claims(result: SequenceAnalysis, *, key: str) -> None:
    """The shaded answer with a chooser of the score, the rule the claims came from, and the table."""
    if not result.claims:
        st.info("Select claim-conditioned probability or LUQ to split the answer into claims and score each.")
        return
    present = [name for name in CLAIM_SCORES if any(name in c.scores for c in result.claims)]
    score = st.selectbox("Shade each claim by", present, format_func=lambda n: CLAIM_SCORES[n][0],
                         key=f"{key}_claim_score")
    label, higher, how = CLAIM_SCORES[score]
    st.caption(f"Higher is more {higher}; redder = more doubtful ({how}); hover a claim for its value. "
               f"{result.claims_rule[0].upper() + result.claims_rule[1:]}.")
    st.markdown(claim_html(result.text.generated_text, result.claims, score), unsafe_allow_html=True)
    st.dataframe(claim_table(result.claims), hide_index=True, key=f"{key}_claim_table")
    with st.expander("The tokens of one claim (what its scores came from)"):
        number = st.selectbox("Claim", range(len(result.claims)), key=f"{key}_claim_tokens",
                              format_func=lambda n: f"{n + 1}. {result.claims[n].text[:80]}")
        st.dataframe(token_rows(result, result.claims[number]), hide_index=True)
        st.caption("Token CCP: a function word's alternatives, and those differing only in case, spacing or "
                   "punctuation, keep the meaning without a model; None: a special token.")
