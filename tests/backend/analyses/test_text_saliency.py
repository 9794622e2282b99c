"""Saliency arithmetic on a toy causal model whose gradients are derived by hand, with captum as a reference."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from captum.attr import FeatureAblation, IntegratedGradients

from backend.analyses import text_saliency

T, D, V = 5, 3, 4
POSITIONS = torch.tensor([2, 4])          # explained tokens; their logits come from positions 1 and 3
CHOSEN = torch.tensor([1, 3])


def toy_inputs(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return (torch.randn(T, D, generator=generator, dtype=torch.float64),
            torch.randn(V, D, generator=generator, dtype=torch.float64))


def toy_score_fn(weights: torch.Tensor):
    """A causal toy LM: hidden state h_t = x_0 + ... + x_t, logits_t = W h_t; target = log p(chosen) at p - 1."""
    def score_fn(x: torch.Tensor) -> torch.Tensor:
        hidden = x.cumsum(dim=1)[:, POSITIONS - 1]                       # (B, N, D)
        logprobs = torch.log_softmax(hidden @ weights.T, dim=-1)         # (B, N, V)
        return logprobs.gather(-1, CHOSEN[None, :, None].expand(x.shape[0], -1, 1))[..., 0]
    return score_fn


def hand_gradient(x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """(N, T, D): d log softmax(W h)_c / d x_s = W^T (onehot(c) - softmax(W h)) for s <= p - 1, else 0."""
    grads = torch.zeros(len(POSITIONS), T, D, dtype=torch.float64)
    for n, (p, c) in enumerate(zip(POSITIONS.tolist(), CHOSEN.tolist())):
        h = x[:p].sum(dim=0)
        probs = torch.softmax(weights @ h, dim=0)
        grads[n, :p] = weights.T @ (torch.nn.functional.one_hot(torch.tensor(c), V).double() - probs)
    return grads


@pytest.mark.parametrize("chunk", [1, 2, 8])
def test_batched_gradients_equal_the_hand_derived_gradient(chunk):
    x, weights = toy_inputs()
    grads = text_saliency.per_target_gradients(toy_score_fn(weights), x[None], torch.ones(1), chunk=chunk)
    assert grads.numpy() == pytest.approx(hand_gradient(x, weights).float().numpy(), abs=1e-6)


def test_gradient_norm_and_input_x_gradient_by_hand():
    x, weights = toy_inputs(1)
    hand = hand_gradient(x, weights)
    score_fn = toy_score_fn(weights)
    assert text_saliency.gradient_norm(score_fn, x, chunk=4).numpy() == pytest.approx(
        hand.norm(dim=-1).numpy(), abs=1e-6)
    assert text_saliency.input_x_gradient(score_fn, x, chunk=4).numpy() == pytest.approx(
        (hand * x).sum(dim=-1).numpy(), abs=1e-6)


def test_integrated_gradients_of_a_linear_target_are_exact():
    x, baseline = toy_inputs(2)[0], torch.zeros(T, D, dtype=torch.float64)
    coefficients = torch.arange(2 * T * D, dtype=torch.float64).reshape(2, T, D) / 10

    def linear(z: torch.Tensor) -> torch.Tensor:
        return torch.einsum("btd,ntd->bn", z, coefficients)

    result = text_saliency.integrated_gradients(linear, x, baseline, steps=4, alpha_batch=2, chunk=8)
    assert result.scores.numpy() == pytest.approx((coefficients * x).sum(dim=-1).numpy(), abs=1e-5)
    assert result.delta.numpy() == pytest.approx(np.zeros(2), abs=1e-5)


def test_integrated_gradients_match_captum_and_their_delta_is_the_completeness_gap():
    x, weights = toy_inputs(3)
    baseline = torch.zeros_like(x)
    score_fn = toy_score_fn(weights)
    result = text_saliency.integrated_gradients(score_fn, x, baseline, steps=16, alpha_batch=5, chunk=4)
    for n in range(len(POSITIONS)):
        reference, delta = IntegratedGradients(lambda z, n=n: score_fn(z)[:, n]).attribute(
            x[None], baselines=baseline[None], n_steps=16, method="gausslegendre", return_convergence_delta=True)
        assert result.scores[n].numpy() == pytest.approx(reference[0].sum(dim=-1).numpy(), abs=1e-5)
        assert float(result.delta[n]) == pytest.approx(float(delta), abs=1e-5)
    ends = score_fn(torch.stack([x, baseline]))
    gap = result.scores.double().sum(dim=-1) - (ends[0] - ends[1])
    assert gap.numpy() == pytest.approx(result.delta.numpy(), abs=1e-6)


def test_feature_ablation_by_hand_and_against_captum():
    x, weights = toy_inputs(4)
    baseline = torch.full_like(x, 0.5)
    score_fn = toy_score_fn(weights)
    scores = text_saliency.feature_ablation(score_fn, x, baseline, stop=4, batch=3)
    for n in range(len(POSITIONS)):
        for t in range(T):
            ablated = x.clone()
            ablated[t] = baseline[t]
            expected = float(score_fn(x[None])[0, n] - score_fn(ablated[None])[0, n]) if t < 4 else 0.0
            assert float(scores[n, t]) == pytest.approx(expected, abs=1e-9)
        mask = torch.arange(T)[:, None].expand(T, D)[None]
        reference = FeatureAblation(lambda z, n=n: score_fn(z)[:, n]).attribute(
            x[None], baselines=baseline[None], feature_mask=mask)
        assert scores[n, :4].numpy() == pytest.approx(reference[0, :4, 0].numpy(), abs=1e-9)


def test_quadrature_is_captums_gauss_legendre():
    alphas, weights = text_saliency.quadrature(8)
    assert float(weights.sum()) == pytest.approx(1.0)
    assert 0 < float(alphas.min()) < float(alphas.max()) < 1
    assert alphas.tolist() == sorted(alphas.tolist())


def test_normalise_rows_by_hand():
    rows = [torch.tensor([2.0, -4.0, 1.0]), torch.tensor([0.0, 0.0])]
    scaled, divisors = text_saliency.normalise_rows(rows, text_saliency.max_abs_divisor)
    assert scaled[0].tolist() == [0.5, -1.0, 0.25] and divisors == [4.0, 1.0]
    scaled, divisors = text_saliency.normalise_rows(rows, text_saliency.l1_divisor)
    assert scaled[0].tolist() == pytest.approx([2 / 7, -4 / 7, 1 / 7]) and divisors == [7.0, 1.0]
    scaled, divisors = text_saliency.normalise_rows(rows, text_saliency.no_divisor)
    assert scaled[0].tolist() == [2.0, -4.0, 1.0] and divisors == [1.0, 1.0]
    assert text_saliency.normalise_rows([torch.tensor([])], text_saliency.max_abs_divisor)[1] == [1.0]


def test_causal_groups_split_sorted_targets_where_it_costs_least():
    # one target per length 9..24 (a 16-token answer after 9 changed prompt positions): cost = sum of
    # length x (1 + 2 x members); one group 24 x 33 = 792, two 16 x 17 + 24 x 17 = 680, four 9 x (12+16+20+24) = 648
    groups = text_saliency.causal_groups(list(range(24, 8, -1)))
    assert [[24 - n for n in g] for g in groups] == [[9, 10, 11, 12], [13, 14, 15, 16], [17, 18, 19, 20],
                                                     [21, 22, 23, 24]]
    assert text_saliency.causal_groups([5, 5, 5]) == [[0, 1, 2]]  # equal needs: one group, one forward
    assert text_saliency.causal_groups([7]) == [[0]]
    assert sorted(sum(text_saliency.causal_groups([3, 1, 2, 9, 4]), [])) == [0, 1, 2, 3, 4]
