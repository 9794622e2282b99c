"""Inv-Entropy on a model served by vLLM: each rewording answered by one request with n = K (the same answers as
asking vLLM directly with the same seed), the value the paper's walk over the shown prompts and answers."""
from __future__ import annotations

import numpy as np
import pytest

from backend.analyses.evidence import PERTURBED_PROMPTS
from backend.schemas import DEFAULT_EMBEDDING_MODEL, SequenceRequest, TextRequest
from backend.served.calls import generate, user_messages
from backend.served.evidence import MIN_TOP_LOGPROBS
from tests.backend.sequence.test_perturbation_default_models import walk_by_loops
from tests.backend.served.test_sequence_analysis import SERVED_ID, on_vllm, served_engine  # noqa: F401

K = 2
TEXT = TextRequest(model=SERVED_ID, prompt="Name a planet of the solar system.", max_new_tokens=12, seed=7)


@on_vllm
def test_inv_entropy_of_a_served_answer(served_engine):  # noqa: F811
    request = SequenceRequest(text=TEXT, methods=["inv_entropy"], samples=K, sample_temperature=1.0)
    result = served_engine.analyze_sequence(request)
    (score,) = result.scores
    d = score.details
    assert result.text.engine == "vllm" and score.value is not None, d
    assert d["prompts"][0] == TEXT.prompt and len(d["prompts"]) == PERTURBED_PROMPTS + 1
    assert d["answers"][0] == [s.text for s in result.samples] and all(len(g) == K for g in d["answers"])
    client = served_engine.text_model(SERVED_ID).client
    direct = generate(client, user_messages(d["prompts"][1]), n=K, max_tokens=TEXT.max_new_tokens,
                      temperature=1.0, top_p=1.0, seed=TEXT.seed + 1, top_logprobs=MIN_TOP_LOGPROBS)
    assert d["answers"][1] == [c.text.strip() for c in direct.samples]
    embedder = served_engine.embedding_model(DEFAULT_EMBEDDING_MODEL)
    flat = [a for group in d["answers"] for a in group]
    expected = walk_by_loops(embedder.embed([d["prompts"][p] for p in d["pair_prompt"]]).astype(np.float64),
                             embedder.embed(flat).astype(np.float64))
    assert score.value == pytest.approx(expected, rel=1e-5)
