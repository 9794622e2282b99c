"""Entropy bounds from top-k log-probabilities: hand-computed cases, exact cases, and bounds that always hold."""
from __future__ import annotations

import math

import pytest
import torch

from backend.analyses.topk_entropy import BEYOND_TOP_K, entropy_bounds, rank_in_top, rank_label
from backend.errors import UserInputError


def logs(*probs: float) -> list[float]:
    return [math.log(p) for p in probs]


def exact_entropy(probs: torch.Tensor) -> float:
    return float(-(probs * probs.clamp_min(1e-300).log()).sum())


def test_hand_computed_bounds() -> None:
    """V = 4, top-2 = (0.5, 0.25): R = 0.25 over 2 unseen tokens, each <= 0.25.
    Upper: (0.125, 0.125); lower: (0.25, 0)."""
    known = -(0.5 * math.log(0.5) + 0.25 * math.log(0.25))
    bounds = entropy_bounds(logs(0.5, 0.25), vocab_size=4)
    assert bounds.upper == pytest.approx(known - 0.25 * math.log(0.125))
    assert bounds.lower == pytest.approx(known - 0.25 * math.log(0.25))
    assert bounds.unseen_mass == pytest.approx(0.25)
    assert not bounds.exact
    assert bounds.estimate == pytest.approx((bounds.lower + bounds.upper) / 2)


def test_lower_bound_with_a_leftover_token() -> None:
    """V = 10, top-1 = 0.4: R = 0.6 is at least one token at 0.4 and one at 0.2."""
    bounds = entropy_bounds(logs(0.4), vocab_size=10)
    assert bounds.lower == pytest.approx(-(2 * 0.4 * math.log(0.4) + 0.2 * math.log(0.2)))
    assert bounds.upper == pytest.approx(-(0.4 * math.log(0.4)) - 0.6 * math.log(0.6 / 9))


def test_exact_when_the_mass_is_complete_or_every_token_is_known() -> None:
    full = entropy_bounds(logs(0.5, 0.3, 0.2), vocab_size=100)
    assert full.exact and full.lower == full.upper == pytest.approx(-sum(p * math.log(p) for p in (0.5, 0.3, 0.2)))
    every = entropy_bounds(logs(0.7, 0.2), vocab_size=3, other_logprobs=logs(0.1))
    assert every.exact and every.estimate == pytest.approx(-sum(p * math.log(p) for p in (0.7, 0.2, 0.1)))


def test_a_known_token_beyond_the_top_k_narrows_the_bounds() -> None:
    without = entropy_bounds(logs(0.5, 0.2), vocab_size=50)
    with_chosen = entropy_bounds(logs(0.5, 0.2), vocab_size=50, other_logprobs=logs(0.15))
    assert with_chosen.upper - with_chosen.lower < without.upper - without.lower


def test_inconsistent_inputs_say_what_to_change() -> None:
    with pytest.raises(UserInputError, match="vocab_size"):
        entropy_bounds(logs(0.1), vocab_size=3)
    with pytest.raises(UserInputError, match="top_logprobs"):
        entropy_bounds([], vocab_size=3)
    with pytest.raises(UserInputError, match="more likely than the k-th"):
        entropy_bounds(logs(0.5, 0.1), vocab_size=10, other_logprobs=logs(0.3))


@pytest.mark.parametrize("seed", range(4))
def test_bounds_contain_the_exact_entropy_of_random_distributions(seed: int) -> None:
    """Random full distributions (sharp to flat, small and large V), truncated to every k: the truth is inside."""
    generator = torch.Generator().manual_seed(seed)
    for trial in range(60):
        vocab = int(torch.randint(2, 300, (1,), generator=generator))
        scale = float(torch.empty(1).uniform_(0.05, 8.0, generator=generator))
        probs = torch.softmax(torch.randn(vocab, generator=generator, dtype=torch.float64) * scale, dim=0)
        truth = exact_entropy(probs)
        ordered = probs.sort(descending=True).values
        for k in sorted({1, 2, 5, vocab // 2, vocab - 1, vocab} - {0}):
            bounds = entropy_bounds(ordered[:k].log().tolist(), vocab_size=vocab)
            assert bounds.lower - 1e-9 <= truth <= bounds.upper + 1e-9, (seed, trial, vocab, k)
            if k == vocab:
                assert bounds.exact and bounds.estimate == pytest.approx(truth, abs=1e-9)


def test_the_bounds_are_attained() -> None:
    """The extreme completions of the top-k (even spread, packed at the cap) have exactly the bounds' entropy."""
    top = [0.5, 0.2]
    even = torch.tensor(top + [0.3 / 8] * 8, dtype=torch.float64)
    packed = torch.tensor(top + [0.2, 0.1] + [0.0] * 6, dtype=torch.float64)
    bounds = entropy_bounds(logs(*top), vocab_size=10)
    assert bounds.upper == pytest.approx(exact_entropy(even))
    assert bounds.lower == pytest.approx(exact_entropy(packed))


def test_rank_beyond_top_k() -> None:
    assert rank_in_top(7, [3, 7, 9]) == 2
    assert rank_in_top("x", ["a", "b"]) is None
    assert rank_label(None) == BEYOND_TOP_K
    assert rank_label(3) == "3"
