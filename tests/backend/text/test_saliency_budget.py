"""The saliency memory budget: its bytes from the machine and the request by hand, the chunk sizes of the tiny
model by hand, and a budget small enough for one pair per pass giving the same scores."""
from __future__ import annotations

import pytest
import torch

from backend.schemas import TextRequest
from backend.schemas.text_saliency import TextSaliencyRequest
from backend.text import saliency
from backend.text.generation import analyze_text
from backend.text.saliency_budget import MIB, budget_bytes, budget_from, chunk_sizes

GIB = 1 << 30


def test_the_default_budget_is_a_quarter_of_what_is_available_up_to_the_devices_cap():
    assert budget_from("cpu", None, 2 * GIB) == 512 * MIB
    assert budget_from("cpu", None, 64 * GIB) == GIB
    assert budget_from("cuda", None, 16 * GIB) == 4 * GIB
    assert budget_from("cuda", None, 80 * GIB) == 8 * GIB
    assert budget_from("cpu", None, 32 * MIB) == 16 * MIB  # the floor
    assert budget_from("cpu", None, None) == GIB  # unknown: the cap


def test_a_requested_budget_is_taken_up_to_what_is_available():
    assert budget_from("cpu", 64, 2 * GIB) == 64 * MIB
    assert budget_from("cpu", 4096, 2 * GIB) == 2 * GIB
    assert budget_from("cuda", 20_000, None) == 20_000 * MIB


def test_the_budget_reads_the_machine():
    assert 16 * MIB <= budget_bytes("cpu") <= GIB
    assert budget_bytes("cpu", 64) == 64 * MIB


def test_chunk_sizes_by_hand(tiny_lm):
    # 2 layers x 10 tokens x (4 heads x 10 + 4 x 32 hidden + 3 x 64 intermediate) x 4 bytes = 28,800 bytes a
    # sequence backward; forward: 10 x 360 x 4 = 14,400 bytes + 2 rows x 49,152 logits x 4 bytes = 407,616.
    vocab = tiny_lm.model.config.vocab_size
    forward = 14_400 + 4 * 2 * vocab
    assert chunk_sizes(tiny_lm, 10, MIB, rows=2) == (min(64, MIB // 28_800), min(32, MIB // forward))
    assert chunk_sizes(tiny_lm, 10, 60_000, rows=2) == (2, 1)
    assert chunk_sizes(tiny_lm, 10, 1, rows=2) == (1, 1)
    assert chunk_sizes(tiny_lm, 10, 64 * GIB, rows=2) == (64, 32)


@pytest.mark.parametrize("method, parameters", [("input_x_gradient", {}), ("gradient_norm", {}),
                                                ("integrated_gradients", {"steps": 6, "baseline": "content_space"}),
                                                ("occlusion", {"baseline": "content_space"})])
def test_one_pair_per_pass_gives_the_same_scores(tiny_lm, method, parameters):
    analysis = analyze_text(tiny_lm, TextRequest(model="tiny-random", prompt="Name a colour.", max_new_tokens=3))
    request = TextSaliencyRequest(model=analysis.model, ids=analysis.ids, answer_start=analysis.answer_start,
                                  method=method, parameters=parameters, normalisation="none")
    method_, target, resolved = saliency.resolve(request)
    positions = list(range(analysis.answer_start, len(analysis.ids)))
    tokens = saliency.input_tokens(tiny_lm, request.ids, request.answer_start)
    keep = torch.tensor([t.kind == "template" or t.special for t in tokens])
    assert chunk_sizes(tiny_lm, len(request.ids), 1, rows=len(positions)) == (1, 1)
    small, _ = saliency.explain(tiny_lm, request, method_, target, resolved, positions, keep, budget=1)
    large, _ = saliency.explain(tiny_lm, request, method_, target, resolved, positions, keep, budget=GIB)
    assert torch.allclose(small.scores.double(), large.scores.double(), atol=1e-5)


def test_the_response_states_the_budget_of_the_request(tiny_lm):
    analysis = analyze_text(tiny_lm, TextRequest(model="tiny-random", prompt="Name a colour.", max_new_tokens=2))
    result = saliency.text_saliency(tiny_lm, TextSaliencyRequest(
        model=analysis.model, ids=analysis.ids, answer_start=analysis.answer_start, memory_budget_mib=64))
    assert result.memory_budget_mib == 64


def test_the_parameters_get_their_gradient_flags_back(tiny_lm):
    before = [p.requires_grad for p in tiny_lm.model.parameters()]
    with saliency.frozen_parameters(tiny_lm.model):
        assert not any(p.requires_grad for p in tiny_lm.model.parameters())
    assert [p.requires_grad for p in tiny_lm.model.parameters()] == before
