"""Gathering the claim evidence of one sequence analysis (a backend.sequence.pipeline.SequenceRun).

- claims: the request's claims found in the answer, else the answer split (backend.claims.split), each mapped to
  the answer's tokens by their texts.
- claim_alternatives (CCP): for each non-special token of a claim, its top-k alternatives from the analysis (the
  chosen token first) and whether each keeps the claim's meaning, judged on the claim's text up to that token with
  the chosen token and with the alternative in its place (lm-polygraph's "fact_pref" context). An alternative equal
  to the chosen token but for case, white space and punctuation entails without a model, and so does every
  alternative of a function word (FUNCTION_WORDS: the paper and lm-polygraph skip stop words). With an NLI model each
  direction is classified (argmax) and the two combined as lm-polygraph's _combine_nli does; with the embedding
  model, by the claim rule on what the two texts say beyond the question: "entail" at affinity >= the meaning
  threshold, else "contra".
- claim_support (LUQ): each claim against each sample: NLI entail / (entail + contradict) with the sample as
  premise, or the claim rule's affinity of the claim to the sample's closest sentence.
"""
from __future__ import annotations

import string
from typing import Any, Optional, Sequence

import numpy as np

from backend.analyses.meaning_graph import claim_affinity, strip_question_words
from backend.budget import checkpoint
from backend.claims.split import claims_at, given_claims, split_claims, token_offsets, with_token_spans
from backend.claims.support import nli_support

FUNCTION_WORDS = frozenset("""a an the is are was were be been being am do does did have has had of in on at to for
from by with as into onto than then that this these those it its it's they them their there here he she his her him
we us our you your i me my and or but if so not no nor too very can will would should could may might must shall
which who whom whose what when where why how all any each both some such only own same just also s t""".split())
CHUNK = 256  # texts embedded, or NLI pairs asked, between two budget checkpoints


def _chunked(ask: Any, *columns: Sequence[str]) -> np.ndarray:
    """ask(*columns) in chunks of CHUNK rows, a budget checkpoint ("claims") after each: a long answer's thousands
    of alternatives stop when nobody waits for them."""
    total, parts = len(columns[0]), []
    for start in range(0, total, CHUNK):
        parts.append(np.asarray(ask(*(list(c[start:start + CHUNK]) for c in columns))))
        checkpoint("claims", min(total, start + CHUNK), total)
    return np.concatenate(parts)


def _plain(text: str) -> str:
    return text.strip(string.punctuation + string.whitespace).casefold()


def combine_nli(forward: str, backward: str) -> str:
    """Two NLI classes (x -> y, y -> x) as one, lm-polygraph's rule: equal ones kept; entail with contra is
    neutral; else the entail or contra present; else neutral."""
    if forward == backward:
        return forward
    if {forward, backward} == {"entail", "contra"}:
        return "neutral"
    return next((c for c in ("entail", "contra") if c in (forward, backward)), "neutral")


def gather_claims(run: Any) -> None:
    """run.evidence.claims: the request's claim spans or claims (refused when one is not in the answer), else the
    answer's split."""
    answer, tokens = run.text.generated_text, run.text.tokens
    request = run.request
    if getattr(request, "claim_spans", None):
        claims = claims_at(answer, request.claim_spans)
    else:
        claims = given_claims(answer, request.claims) if request.claims else split_claims(answer)
    offsets = token_offsets(answer, [t.text for t in tokens], run.evidence.special)
    run.evidence.claims = with_token_spans(claims, offsets)


def alternative_pairs(run: Any) -> tuple[list[Optional[list[tuple[float, str]]]], list[tuple[int, int, str, str]]]:
    """(per answer token: None outside claims and for special tokens, else [(prob, text)] the chosen token first
    then its other top-k alternatives; the (token, alternative, text with the chosen token, text with the
    alternative) pairs that need the meaning model)."""
    tokens, evidence = run.text.tokens, run.evidence
    per_token: list[Optional[list[tuple[float, str]]]] = [None] * len(tokens)
    pairs = []
    for claim in evidence.claims:
        for i in range(claim.token_start, claim.token_end):
            token = tokens[i]
            if evidence.special[i]:
                continue
            others = [a for a in token.top_k if (a.id != token.id if token.id is not None else a.text != token.text)]
            per_token[i] = [(token.prob, token.text)] + [(a.prob, a.text) for a in others]
            if _plain(token.text) in FUNCTION_WORDS:
                continue
            prefix = "".join(t.text for t in tokens[claim.token_start:i]).lstrip()
            for j, alt in enumerate(others, 1):
                if _plain(alt.text) != _plain(token.text):
                    pairs.append((i, j, prefix + token.text, prefix + alt.text))
    return per_token, pairs


def _classes_by_nli(nli: Any, pairs: Sequence[tuple[int, int, str, str]]) -> list[str]:
    probs = _chunked(nli.probabilities, [p[2] for p in pairs] + [p[3] for p in pairs],
                     [p[3] for p in pairs] + [p[2] for p in pairs])
    index = {nli.entailment: "entail", nli.contradiction: "contra"}
    argmax = [index.get(int(row.argmax()), "neutral") for row in probs]
    return [combine_nli(argmax[n], argmax[len(pairs) + n]) for n in range(len(pairs))]


def _classes_by_embedding(embedder: Any, pairs: Sequence[tuple[int, int, str, str]], question: str,
                          threshold: float) -> list[str]:
    texts = list(dict.fromkeys(text for p in pairs for text in p[2:]))
    stripped = [strip_question_words(text, question) for text in texts]
    vectors = _chunked(embedder.embed, stripped)
    where = {text: n for n, text in enumerate(texts)}
    classes = []
    for _, _, chosen, alt in pairs:
        a, b = where[chosen], where[alt]
        affinity = claim_affinity([stripped[a], stripped[b]], vectors[[a, b]])[0, 1]
        classes.append("entail" if affinity >= threshold else "contra")
    return classes


def gather_claim_alternatives(run: Any) -> None:
    """run.evidence.claim_alternatives: per answer token None, or [(prob, class)] with the chosen token first."""
    per_token, pairs = alternative_pairs(run)
    models = run.models
    if not pairs:
        classes = []
    elif models.meaning.kind == "nli":
        classes = _classes_by_nli(models.nli, pairs)
    else:
        classes = _classes_by_embedding(models.embedder, pairs, run.request.text.prompt, models.meaning.threshold)
    judged = {(i, j): cls for (i, j, _, _), cls in zip(pairs, classes)}
    run.evidence.claim_alternatives = [
        None if alts is None else [(p, "entail" if j == 0 else judged.get((i, j), "entail"))
                                   for j, (p, _) in enumerate(alts)]
        for i, alts in enumerate(per_token)]


def gather_claim_support(run: Any) -> None:
    """run.evidence.claim_support: (claims, K) support of each claim by each sample, in [0, 1]."""
    evidence, models = run.evidence, run.models
    claims, samples = [c.text for c in evidence.claims], evidence.sample_texts or []
    if not claims or not samples:
        evidence.claim_support = np.zeros((len(claims), len(samples)))
        return
    if models.meaning.kind == "nli":
        nli = models.nli
        probs = _chunked(nli.probabilities, [s for _ in claims for s in samples], [c for c in claims for _ in samples])
        shape = (len(claims), len(samples))
        evidence.claim_support = nli_support(probs[:, nli.entailment].reshape(shape),
                                             probs[:, nli.contradiction].reshape(shape))
        return
    sentences = [[c.text for c in split_claims(s)] or [s] for s in samples]
    flat = [text for group in sentences for text in group]
    question = run.request.text.prompt
    stripped = [strip_question_words(text, question) for text in claims + flat]
    affinity = claim_affinity(stripped, _chunked(models.embedder.embed, stripped))[:len(claims), len(claims):]
    support, start = np.zeros((len(claims), len(samples))), 0
    for k, group in enumerate(sentences):
        support[:, k] = affinity[:, start:start + len(group)].max(axis=1)
        start += len(group)
    evidence.claim_support = support
