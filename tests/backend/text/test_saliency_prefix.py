"""The shared forward over the unchanged leading positions of an integrated-gradients path: the cached prefix
gives the full forward's logits and gradients, and integrated gradients with it equal those without it."""
from __future__ import annotations

import pytest
import torch

from backend.schemas import TextRequest
from backend.schemas.text_saliency import TextSaliencyRequest
from backend.text import saliency_methods
from backend.text.generation import analyze_text
from backend.text.saliency import text_saliency
from backend.text.saliency_prefix import cached_prefix_logits, unchanged_prefix


def test_unchanged_prefix_by_hand():
    x = torch.arange(12.0).reshape(6, 2)
    baseline = x.clone()
    baseline[3, 1] = -1.0
    assert unchanged_prefix(x, baseline, 6) == 3
    assert unchanged_prefix(x, baseline, 2) == 2
    assert unchanged_prefix(x, x, 4) == 4
    assert unchanged_prefix(x, x + 1, 4) == 0


def test_cached_prefix_gives_the_full_forwards_logits_and_gradients(tiny_lm):
    torch.manual_seed(1)
    embeddings = torch.randn(2, 9, tiny_lm.model.config.hidden_size)
    embeddings[1, :4] = embeddings[0, :4]
    rows = torch.tensor([4, 6, 8])
    full_input = embeddings.clone().requires_grad_(True)
    full = tiny_lm.model(inputs_embeds=full_input, logits_to_keep=rows).logits
    suffix = embeddings[:, 4:].clone().requires_grad_(True)
    cached = cached_prefix_logits(tiny_lm.model, embeddings[0, :4])(suffix, rows - 4)
    assert torch.allclose(cached, full, atol=1e-5)
    weights = torch.randn_like(full)
    full_grad = torch.autograd.grad((full * weights).sum(), full_input)[0]
    cached_grad = torch.autograd.grad((cached * weights).sum(), suffix)[0]
    assert torch.allclose(cached_grad, full_grad[:, 4:], atol=1e-5)


@pytest.mark.parametrize("baseline", ["content_space", "content_zero"])
def test_integrated_gradients_with_the_shared_prefix_equal_those_without(tiny_lm, monkeypatch, baseline):
    analysis = analyze_text(tiny_lm, TextRequest(model="tiny-random", prompt="Name a colour.", max_new_tokens=3))
    request = TextSaliencyRequest(model=analysis.model, ids=analysis.ids, answer_start=analysis.answer_start,
                                  method="integrated_gradients", parameters={"steps": 6, "baseline": baseline},
                                  normalisation="none")
    shared_lengths = []

    def recording(*args):
        shared_lengths.append(unchanged_prefix(*args))
        return shared_lengths[-1]
    monkeypatch.setattr(saliency_methods, "unchanged_prefix", recording)
    shared = text_saliency(tiny_lm, request)
    monkeypatch.setattr(saliency_methods, "unchanged_prefix", lambda *args: 0)
    alone = text_saliency(tiny_lm, request)
    assert shared_lengths[0] > 0  # the chat template's opening tokens are shared
    for a, b in zip(shared.rows, alone.rows):
        assert a.scores == pytest.approx(b.scores, abs=1e-5)
        assert a.scores[:shared_lengths[0]] == [0.0] * shared_lengths[0]
        assert (a.target_value, a.baseline_value, a.convergence_delta) == pytest.approx(
            (b.target_value, b.baseline_value, b.convergence_delta), abs=1e-5)
