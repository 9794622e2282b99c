"""RAUQ's and UQAC's attention evidence read chunk by chunk equals one full pass; the methods on real models."""
from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from backend.analyses import attention_uq as auq
from backend.errors import UserInputError
from backend.schemas import SequenceRequest, TextRequest
from backend.sequence import attention_evidence as gather
from backend.sequence.pipeline import runnable_methods


def _single_pass(lm, ids: list[int], answer_start: int):
    """prev (L, H, T-1) and each answer row's reduced row, from one full forward's (L, H, T, T) weights."""
    with torch.inference_mode():
        out = lm.model(input_ids=torch.tensor([ids]), output_attentions=True)
    weights = torch.stack([a[0] for a in out.attentions]).double().numpy()
    rows = np.arange(answer_start - 1, len(ids) - 1)
    prev = weights[:, :, rows[1:], rows[1:]]
    reduced = auq.reduce_rows(weights[:, :, rows, :], rows)
    return prev, auq.strongest_keys(reduced, answer_start, rows)


def test_chunked_evidence_equals_one_full_pass(tiny_lm):
    ids = list(range(100, 190))  # 90 tokens; a 10-token prompt
    per_query = 2 * 4 * len(ids) * 4
    chunked = gather.attention_evidence(tiny_lm, ids, 10, block_bytes=per_query * 7)  # 7 queries a block
    assert chunked.peak_bytes == pytest.approx(per_query * 7, rel=0.1)
    prev, (keys, weights) = _single_pass(tiny_lm, ids, 10)
    assert chunked.prev.shape == (2, 4, 79)
    np.testing.assert_allclose(chunked.prev, prev, atol=1e-5)
    np.testing.assert_allclose(chunked.weights, weights, atol=1e-5)
    assert (chunked.keys[chunked.weights > 1e-3] == keys[chunked.weights > 1e-3]).all()


def test_the_first_answer_token_and_tiny_inputs(tiny_lm):
    one = gather.attention_evidence(tiny_lm, [5, 6], 1)
    assert one.prev.shape == (2, 4, 0) and (one.keys == -1).all()
    with pytest.raises(UserInputError):
        gather.attention_evidence(tiny_lm, [5, 6], 2)


def test_served_models_cannot_run_them():
    request = SequenceRequest(text=TextRequest(prompt="q"), methods=["rauq"])
    with pytest.raises(UserInputError, match="attention weights"):
        runnable_methods(request, ["token_logprobs", "full_distribution"])
    _, left_out = runnable_methods(SequenceRequest(text=TextRequest(prompt="q"), methods=["all"]), ["token_logprobs"])
    assert "attention weights" in left_out["rauq"] and "attention weights" in left_out["uqac"]


@pytest.mark.slow
def test_rauq_and_uqac_on_the_default_model(engine, default_lm):
    request = SequenceRequest(text=TextRequest(prompt="What is 12 + 7? Think step by step, then give the answer.",
                                               max_new_tokens=40), methods=["rauq", "uqac"])
    result = engine.analyze_sequence(request)
    rauq, uqac = result.scores
    n_layers = default_lm.model.config.num_hidden_layers
    assert rauq.details["layers"] == auq.middle_layers(n_layers) and len(rauq.details["heads"]) == n_layers // 3 + 1
    assert rauq.value >= 1 and 0 <= rauq.normalized <= 1
    assert rauq.value == pytest.approx(max(rauq.details["per_layer"]))
    chain = uqac.details["chain"]
    assert set(uqac.details["answer_span"]) <= set(chain)
    probs = np.exp([t.logprob for t in result.text.tokens])
    assert uqac.value == pytest.approx(float(np.prod(probs[chain])))


@pytest.mark.slow
def test_a_2000_token_answer_is_read_without_the_square(engine, default_lm):
    """A 2,000-token given answer: the largest attention block held stays at BLOCK_BYTES whatever the length
    (its (L, H, T, T) weights would be 30 x 9 x 2000^2 x 4 B = 4.3 GB)."""
    answer = " ".join(f"step {i} adds one." for i in range(270))
    request = SequenceRequest(text=TextRequest(prompt="Count.", answer=answer, chat_template=False),
                              methods=["rauq", "uqac"])
    started = time.perf_counter()
    result = engine.analyze_sequence(request)
    assert len(result.text.tokens) >= 2000
    assert all(s.value is not None for s in result.scores), [s.details for s in result.scores]
    assert result.scores[0].details["peak_attention_bytes"] <= gather.BLOCK_BYTES
    print(f"2000-token rauq+uqac: {time.perf_counter() - started:.1f} s, {len(result.text.tokens)} tokens")
