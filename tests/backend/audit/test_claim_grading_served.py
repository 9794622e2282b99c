"""A claim-labelled audit through a real vLLM (the session's server): the given responses scored as given (the
engine's prompt log-probabilities of the response's tokens, no generation), each claim's mean -log p equal to the
in-process audit's within the served tests' tolerance, its entropies inside the served bounds' range, the same
verdicts."""
from __future__ import annotations

import json

import pytest

from backend.audit import runner
from backend.audit.store import AuditStore
from backend.schemas.audit import AuditRequest
from tests.backend.audit.test_claim_grading import ROWS
from tests.backend.audit.test_served_audit import SERVED_ID, served_engine
from tests.backend.served.test_against_vllm import LOGPROB_TOL

pytestmark = [pytest.mark.vllm, pytest.mark.slow]


def run(engine, model: str, folder) -> object:
    dataset = folder / "claims.jsonl"
    dataset.write_text("\n".join(json.dumps(row) for row in ROWS[:2]))
    request = AuditRequest(dataset=str(dataset), model=model, methods=["mean_logprob", "max_entropy"],
                           max_new_tokens=8, concurrency=2)
    return runner.run_audit(request, engine, AuditStore(f"sqlite:///{folder}/audit.sqlite"))


def test_a_served_claims_audit_scores_the_given_responses_as_the_in_process_model_does(
        vllm_url, default_vocab_size, engine, tmp_path_factory):
    served = run(served_engine(vllm_url, default_vocab_size, engine.cache_dir), SERVED_ID,
                 tmp_path_factory.mktemp("served-claims"))
    local = run(engine, "smollm2-135m-instruct", tmp_path_factory.mktemp("local-claims"))
    assert served.n_claims == local.n_claims == 4
    for theirs, ours in zip(served.items, local.items):
        assert (theirs.answer, theirs.correct, theirs.grading) == (ours.answer, ours.correct, "claims")
        assert theirs.scores["mean_logprob"] == pytest.approx(ours.scores["mean_logprob"], abs=LOGPROB_TOL)
        assert "max_entropy" in theirs.score_bounds  # estimated from the top-20, with its bounds
        for served_claim, local_claim in zip(theirs.claims, ours.claims):
            assert (served_claim.start, served_claim.end) == (local_claim.start, local_claim.end)
            assert served_claim.scores["mean_neg_logprob"] == pytest.approx(local_claim.scores["mean_neg_logprob"],
                                                                            abs=LOGPROB_TOL)
    low, high = served.items[0].score_bounds["max_entropy"]
    assert low - 1e-4 <= local.items[0].scores["max_entropy"] <= high + 1e-4
