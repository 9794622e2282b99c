"""ccp and luq on a model served by vLLM: the claims come from the served answer's token texts, CCP from its top-k
alternatives (the engine's log-probabilities), LUQ from the served samples; the same in-process claim code scores
them, checked here against the served evidence."""
from __future__ import annotations

import math

import pytest

from backend.claims.scores import token_stats
from backend.schemas import SequenceRequest, TextRequest
from tests.backend.served.test_sequence_analysis import SERVED_ID, on_vllm, served_engine  # noqa: F401


@on_vllm
def test_claims_of_a_served_answer(served_engine):  # noqa: F811
    result = served_engine.analyze_sequence(SequenceRequest(
        text=TextRequest(model=SERVED_ID, prompt="Name the capital of France and one fact about it.",
                         max_new_tokens=32), methods=["ccp", "luq"], samples=3, sample_temperature=1.0))
    assert result.text.engine == "vllm" and result.claims
    tokens = result.text.tokens
    for claim in result.claims:
        assert result.text.generated_text[claim.start:claim.end] == claim.text
        span = tokens[claim.token_start:claim.token_end]
        assert claim.token_end > claim.token_start and all(t.top_k for t in span if not t.special)
        expected = token_stats([t.logprob for t in span], [t.entropy for t in span], [t.special for t in span])
        assert claim.scores["mean_neg_logprob"] == pytest.approx(expected["mean_neg_logprob"])
        assert 0 <= claim.scores["ccp"] <= 1 and 0 <= claim.supported_by <= 3
    ccp, luq = result.scores
    assert ccp.value == pytest.approx(math.prod(c.scores["ccp"] for c in result.claims))
    assert ccp.details["alternatives_judged"] > 0 and len(luq.details["support"][0]) == 3
