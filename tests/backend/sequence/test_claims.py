"""ccp and luq end to end: the real default models (SmolLM2-135M-Instruct, all-MiniLM-L6-v2, no NLI model: the
embedding claim rule) and a tiny registered NLI model (the NLI path, no embedder loaded); each claim's scores
recomputed from the analysis' own tokens and evidence."""
from __future__ import annotations

import math
import string

import pytest

from backend.claims.scores import token_stats
from backend.errors import UserInputError
from backend.schemas import SequenceRequest, TextRequest
from tests.backend.sequence.test_sequence_engine import folders, request as tiny_request, tiny_engine  # noqa: F401

pytestmark = pytest.mark.slow
PUNCT = string.punctuation + string.whitespace
TEXT = TextRequest(prompt="Name the capital of France and say one fact about it.", max_new_tokens=40)


@pytest.fixture(scope="module")
def result(engine):
    return engine.analyze_sequence(SequenceRequest(text=TEXT, methods=["ccp", "luq"], samples=3))


def test_claims_cover_the_answer_and_carry_their_scores(result):
    answer, tokens = result.text.generated_text, result.text.tokens
    assert result.claims and "embedding model minilm" in result.claims_rule and "no NLI" in result.claims_rule
    for claim in result.claims:
        assert answer[claim.start:claim.end] == claim.text
        pieces = "".join(t.text for t in tokens[claim.token_start:claim.token_end])
        assert claim.text in pieces or pieces.strip() in claim.text
        span = tokens[claim.token_start:claim.token_end]
        expected = token_stats([t.logprob for t in span], [t.entropy for t in span], [t.special for t in span])
        assert {k: claim.scores[k] for k in expected} == pytest.approx(expected)
        assert 0.0 <= claim.scores["ccp"] <= 1.0 and 0.0 <= claim.scores["luq_support"] <= 1.0
        assert 0 <= claim.supported_by <= 3
    ccp, luq = result.scores
    assert ccp.value == pytest.approx(math.prod(c.scores["ccp"] for c in result.claims))
    assert luq.value == pytest.approx(1 - sum(c.scores["luq_support"] for c in result.claims) / len(result.claims))
    assert len(luq.details["support"][0]) == 3


def test_a_users_split_is_scored_and_a_foreign_claim_refused(engine, result):
    answer = result.text.generated_text
    words = answer.split()
    halves = [" ".join(words[:len(words) // 2]), " ".join(words[len(words) // 2:])]
    edited = engine.analyze_sequence(SequenceRequest(text=TEXT, methods=["ccp"], claims=halves))
    assert [c.text for c in edited.claims] == halves and "the request's claims" in edited.claims_rule
    assert "luq_support" not in edited.claims[0].scores
    spans = engine.analyze_sequence(SequenceRequest(text=TEXT, methods=["ccp"], claim_spans=[
        (c.start, c.end) for c in edited.claims]))
    assert [c.model_dump() for c in spans.claims] == [c.model_dump() for c in edited.claims]
    with pytest.raises(UserInputError, match="not found in the answer"):
        engine.analyze_sequence(SequenceRequest(text=TEXT, methods=["ccp"], claims=["Berlin is lovely."]))


def test_the_nli_path_judges_claims_by_nli_alone(folders, tmp_path):
    from backend.claims.evidence import FUNCTION_WORDS, combine_nli
    from backend.claims.scores import claim_ccp
    from backend.claims.support import nli_support
    tiny = tiny_engine(folders, tmp_path, with_nli=True)
    result = tiny.analyze_sequence(tiny_request(methods=["ccp", "luq"]))
    assert tiny.pool.loaded_ids() == ["tiny-lm", "tiny-nli"] and "NLI model tiny-nli" in result.claims_rule
    nli, tokens = tiny.nli_model("tiny-nli"), result.text.tokens
    claim = result.claims[0]
    samples = [s.text for s in result.samples]
    probs = nli.probabilities(samples, [claim.text] * len(samples))
    support = nli_support(probs[:, nli.entailment], probs[:, nli.contradiction])
    assert claim.scores["luq_support"] == pytest.approx(float(support.mean()), abs=1e-6)
    names = {nli.entailment: "entail", nli.contradiction: "contra"}
    alternatives = []
    for i in range(claim.token_start, claim.token_end):
        token, prefix = tokens[i], "".join(t.text for t in tokens[claim.token_start:i]).lstrip()
        judged = [(token.prob, "entail")]
        for alt in (a for a in token.top_k if a.id != token.id):
            if (alt.text.strip(PUNCT).casefold() == token.text.strip(PUNCT).casefold()
                    or token.text.strip(PUNCT).casefold() in FUNCTION_WORDS):
                judged.append((alt.prob, "entail"))
                continue
            a, b = prefix + token.text, prefix + alt.text
            both = nli.probabilities([a, b], [b, a]).argmax(axis=1)
            judged.append((alt.prob, combine_nli(*(names.get(int(c), "neutral") for c in both))))
        alternatives.append(None if token.special else judged)
    assert claim.scores["ccp"] == pytest.approx(claim_ccp(alternatives), abs=1e-9)
