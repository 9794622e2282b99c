"""CCP, LUQ support and the claim token statistics, hand-computed on constructed evidence; and a 2,000-token answer
split and scored (constructed token scores, no model)."""
import math
import time

import numpy as np
import pytest

from backend.analyses.evidence import Evidence
from backend.claims.methods import ccp_result, claim_rows, luq_result
from backend.claims.scores import claim_ccp, token_ccp, token_stats
from backend.claims.split import split_claims, token_offsets, with_token_spans
from backend.claims.support import claim_support, luq, nli_support, supported_by

TOKEN_A = [(0.6, "entail"), (0.3, "contra"), (0.1, "neutral")]
TOKEN_B = [(0.5, "contra"), (0.4, "entail"), (0.05, "contra")]  # the chosen token's own class is ignored


def test_token_ccp_counts_entailing_against_entailing_and_contradicting_mass():
    assert token_ccp(TOKEN_A) == pytest.approx(0.6 / 0.9)  # the neutral 0.1 counts in neither
    assert token_ccp(TOKEN_B) == pytest.approx(0.9 / 0.95)
    assert token_ccp([(0.7, "entail")]) == 1.0 and token_ccp([]) == 1.0


def test_claim_ccp_is_the_product_over_its_tokens():
    assert claim_ccp([TOKEN_A, None, TOKEN_B]) == pytest.approx(12 / 19)  # 2/3 * 18/19
    assert claim_ccp([]) == 1.0


def test_token_stats_leave_out_special_tokens():
    stats = token_stats([-0.5, -1.5, -9.0], [1.0, 2.0, 7.0], [False, False, True])
    assert stats == {"mean_token_entropy": 1.5, "max_token_entropy": 2.0, "mean_neg_logprob": 1.0}
    assert token_stats([-1.0], [1.0], [True])["mean_token_entropy"] is None


def test_luq_support_by_nli_and_the_answer_value():
    entail = np.array([[0.8, 0.1], [0.2, 0.6]])
    contra = np.array([[0.2, 0.3], [0.2, 0.2]])
    support = nli_support(entail, contra)
    np.testing.assert_allclose(support, [[0.8, 0.25], [0.5, 0.75]])
    assert claim_support(support) == pytest.approx([0.525, 0.625])
    assert luq([0.525, 0.625]) == pytest.approx(0.425)
    assert supported_by(support, 0.5) == [1, 2]
    assert nli_support(np.zeros((1, 1)), np.zeros((1, 1))).tolist() == [[0.5]]
    with pytest.raises(ValueError, match="no claims"):
        luq([])


def evidence_for(answer, pieces, alternatives=None, support=None):
    special = [False] * len(pieces)
    ev = Evidence(logprobs=[-0.5] * len(pieces), entropies=[1.0] * len(pieces), special=special, vocab_size=10)
    ev.claims = with_token_spans(split_claims(answer), token_offsets(answer, pieces, special))
    ev.claim_alternatives, ev.claim_support = alternatives, support
    return ev


def test_the_registry_values_and_the_claim_rows():
    ev = evidence_for("Yes. No.", ["Yes", ".", " No", "."], [TOKEN_A, None, TOKEN_B, None],
                      np.array([[1.0, 0.5], [0.0, 0.5]]))
    ccp = ccp_result(ev, {})
    assert ccp.value == pytest.approx(12 / 19) and ccp.details["per_claim"] == pytest.approx([2 / 3, 18 / 19])
    assert ccp.details["changing_alternatives"] == 2
    assert luq_result(ev, {}).value == pytest.approx(1 - (0.75 + 0.25) / 2)
    rows = claim_rows(ev, {"ccp", "luq"}, 0.5)
    assert [(r["text"], r["token_start"], r["token_end"], r["supported_by"]) for r in rows] == [
        ("Yes.", 0, 2, 2), ("No.", 2, 4, 1)]
    assert rows[0]["scores"] == pytest.approx({"mean_token_entropy": 1.0, "max_token_entropy": 1.0,
                                               "mean_neg_logprob": 0.5, "ccp": 2 / 3, "luq_support": 0.75})
    assert "ccp" not in claim_rows(ev, {"luq"}, 0.5)[0]["scores"]


def test_a_2000_token_answer_is_split_and_scored_quickly():
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(40)]
    sentences = []
    while sum(len(s.split()) for s in sentences) < 2000:
        n = int(rng.integers(5, 40))
        body = " ".join(rng.choice(words, n))
        sentences.append(body[:len(body) // 2] + ", and " + body[len(body) // 2:] + ".")
    answer = " ".join(sentences)
    pieces = [(" " if i else "") + w for i, w in enumerate(answer.split(" "))][:2000]
    started = time.perf_counter()
    ev = evidence_for(answer, pieces, [[(0.7, "entail"), (0.2, "contra")]] * len(pieces))
    rows = claim_rows(ev, {"ccp"}, None)
    seconds = time.perf_counter() - started
    assert len(pieces) == 2000 and len(rows) > len(sentences)  # the long sentences' clauses
    covered = [i for r in rows for i in range(r["token_start"], r["token_end"])]
    assert covered == list(range(len(covered)))  # every claim's tokens in order, none twice
    assert rows[0]["scores"]["ccp"] == pytest.approx((0.7 / 0.9) ** (rows[0]["token_end"] - rows[0]["token_start"]))
    print(f"2,000 tokens: {len(rows)} claims split and scored in {seconds:.3f} s")
    assert math.isfinite(seconds)
