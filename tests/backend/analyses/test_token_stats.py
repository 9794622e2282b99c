"""Per-token statistics: hand-computed values on tiny logits, plus torch / scipy references."""
from __future__ import annotations

import math

import pytest
import scipy.stats
import torch

from backend.analyses.token_stats import (WORKSPACE_BYTES_PER_ENTRY, entropy_from_logprobs, ranks_from_top,
                                         token_stats)

# softmax([ln 1, ln 2, ln 3, ln 4]) = [0.1, 0.2, 0.3, 0.4]
PROBS = [0.1, 0.2, 0.3, 0.4]
LOGITS = torch.tensor([[math.log(p * 10) for p in PROBS]], dtype=torch.float64)
HAND_ENTROPY = -sum(p * math.log(p) for p in PROBS)


def stats_for(chosen: int, logits: torch.Tensor = LOGITS, **kwargs):
    return token_stats(logits, torch.tensor([chosen]), **kwargs)


@pytest.mark.parametrize("chosen", range(4))
def test_prob_and_logprob_of_chosen_token_match_hand_values(chosen):
    stats = stats_for(chosen)
    assert stats.prob.item() == pytest.approx(PROBS[chosen], abs=1e-12)
    assert stats.logprob.item() == pytest.approx(math.log(PROBS[chosen]), abs=1e-12)


def test_entropy_in_nats_matches_hand_value():
    assert HAND_ENTROPY == pytest.approx(1.2798542258336676, abs=1e-12)
    assert stats_for(0).entropy.item() == pytest.approx(HAND_ENTROPY, abs=1e-12)


def test_entropy_does_not_depend_on_chosen_token():
    values = [stats_for(c).entropy.item() for c in range(4)]
    assert values == pytest.approx([HAND_ENTROPY] * 4, abs=1e-12)


def test_entropy_matches_torch_categorical_and_scipy_on_random_logits():
    torch.manual_seed(0)
    logits = torch.randn(7, 50) * 3
    stats = token_stats(logits, torch.zeros(7, dtype=torch.long))
    reference_torch = torch.distributions.Categorical(logits=logits.double()).entropy()
    reference_scipy = [scipy.stats.entropy(torch.softmax(row.double(), -1).numpy()) for row in logits]
    assert torch.allclose(stats.entropy, reference_torch, atol=1e-10)
    assert stats.entropy.tolist() == pytest.approx(reference_scipy, abs=1e-10)


def test_entropy_of_uniform_distribution_is_log_v():
    stats = token_stats(torch.zeros(1, 8), torch.tensor([3]))
    assert stats.entropy.item() == pytest.approx(math.log(8), abs=1e-12)
    assert stats.prob.item() == pytest.approx(1 / 8)


def test_entropy_ignores_zero_probability_entries_instead_of_nan():
    logits = torch.tensor([[0.0, float("-inf"), 0.0]])
    stats = token_stats(logits, torch.tensor([0]))
    assert stats.entropy.item() == pytest.approx(math.log(2), abs=1e-12)
    assert entropy_from_logprobs(torch.log_softmax(logits.double(), -1)).item() == pytest.approx(math.log(2))


def test_chosen_token_with_zero_probability_has_logprob_minus_inf():
    stats = token_stats(torch.tensor([[0.0, float("-inf"), 0.0]]), torch.tensor([1]))
    assert stats.prob.item() == 0.0
    assert stats.logprob.item() == float("-inf")
    assert stats.rank.item() == 3


@pytest.mark.parametrize("chosen, rank", [(3, 1), (2, 2), (1, 3), (0, 4)])
def test_rank_is_one_for_most_likely_token(chosen, rank):
    assert stats_for(chosen).rank.item() == rank


def test_tied_tokens_share_the_better_rank():
    logits = torch.tensor([[0.0, 1.0, 1.0, 0.0, 2.0]])
    ranks = [token_stats(logits, torch.tensor([c])).rank.item() for c in range(5)]
    assert ranks == [4, 2, 2, 4, 1]


def test_margin_is_top1_minus_top2_probability():
    assert stats_for(0).margin.item() == pytest.approx(0.4 - 0.3, abs=1e-12)


def test_margin_is_zero_when_top_two_tie():
    stats = token_stats(torch.tensor([[1.0, 1.0, 0.0]]), torch.tensor([2]))
    assert stats.margin.item() == pytest.approx(0.0, abs=1e-15)


def test_top_k_lists_most_likely_first():
    stats = stats_for(0, top_k=3)
    assert stats.top_ids.tolist() == [[3, 2, 1]]
    assert stats.top_probs[0].tolist() == pytest.approx([0.4, 0.3, 0.2], abs=1e-12)


def test_top_k_is_clipped_to_vocabulary_size():
    stats = stats_for(0, top_k=10)
    assert stats.top_ids.shape == (1, 4)
    assert stats.top_ids.tolist() == [[3, 2, 1, 0]]
    assert stats.top_probs.sum().item() == pytest.approx(1.0)


def test_top_k_of_one_still_reports_margin():
    stats = stats_for(0, top_k=1)
    assert stats.top_ids.shape == (1, 1)
    assert stats.margin.item() == pytest.approx(0.1, abs=1e-12)


def test_temperature_two_equals_halved_logits():
    hot = stats_for(1, temperature=2.0)
    halved = stats_for(1, logits=LOGITS / 2)
    for field in ("prob", "logprob", "entropy", "margin", "top_probs"):
        assert torch.allclose(getattr(hot, field), getattr(halved, field), atol=1e-12), field
    roots = [math.sqrt(k) for k in (1, 2, 3, 4)]
    assert hot.prob.item() == pytest.approx(roots[1] / sum(roots), abs=1e-12)
    assert hot.rank.item() == 3


def test_temperature_raises_entropy_and_keeps_ranks():
    cold, hot = stats_for(0, temperature=0.5), stats_for(0, temperature=3.0)
    assert cold.entropy.item() < HAND_ENTROPY < hot.entropy.item()
    assert cold.rank.item() == hot.rank.item() == 4
    assert cold.top_ids.tolist() == hot.top_ids.tolist()


def test_results_are_float64_and_int64_on_cpu():
    stats = token_stats(LOGITS.float(), torch.tensor([0]))
    for field in ("prob", "logprob", "entropy", "margin", "top_probs"):
        assert getattr(stats, field).dtype == torch.float64, field
    assert stats.rank.dtype == torch.int64
    assert stats.top_ids.dtype == torch.int64
    assert stats.prob.device.type == "cpu"


def _assert_same_stats(a, b):
    for field in ("prob", "logprob", "entropy", "margin", "top_probs"):
        assert torch.allclose(getattr(a, field), getattr(b, field), atol=1e-12), field
    assert torch.equal(a.rank, b.rank)
    assert torch.equal(a.top_ids, b.top_ids)


def _per_row(logits, ids, **kwargs):
    rows = [token_stats(logits[i:i + 1], ids[i:i + 1], **kwargs) for i in range(len(ids))]
    return type(rows[0])(*(torch.cat([getattr(r, f) for r in rows]) for f in rows[0].__dataclass_fields__))


def test_more_rows_than_one_chunk_give_the_same_as_row_by_row():
    torch.manual_seed(1)
    n = 2 * 32 + 3
    logits = torch.randn(n, 11)
    ids = torch.randint(0, 11, (n,))
    stats = token_stats(logits, ids, temperature=1.3, top_k=4, budget_bytes=32 * 11 * WORKSPACE_BYTES_PER_ENTRY)
    assert stats.prob.shape == (n,)
    assert stats.top_ids.shape == (n, 4)
    _assert_same_stats(stats, _per_row(logits, ids, temperature=1.3, top_k=4))


def test_small_chunks_give_the_same_as_one_chunk():
    torch.manual_seed(2)
    logits = torch.randn(10, 6)
    ids = torch.randint(0, 6, (10,))
    whole = token_stats(logits, ids)
    _assert_same_stats(token_stats(logits, ids, budget_bytes=3 * 6 * WORKSPACE_BYTES_PER_ENTRY), whole)
    _assert_same_stats(token_stats(logits, ids, budget_bytes=0), whole)


def test_values_equal_torch_log_softmax_in_float64_exactly():
    torch.manual_seed(3)
    logits = torch.randn(9, 300) * 4
    ids = torch.randint(0, 300, (9,))
    stats = token_stats(logits, ids, top_k=3, budget_bytes=4 * 300 * WORKSPACE_BYTES_PER_ENTRY)
    reference = torch.log_softmax(logits.double(), dim=-1)
    assert torch.equal(stats.logprob, reference.gather(1, ids[:, None])[:, 0])
    assert torch.equal(stats.entropy, -(reference.exp() * reference).sum(dim=-1))
    top, top_ids = reference.topk(3, dim=-1)
    assert torch.equal(stats.top_ids, top_ids)
    assert torch.equal(stats.top_probs, top.exp())
    assert torch.equal(stats.rank, (reference > reference.gather(1, ids[:, None])).sum(dim=-1) + 1)


def test_ranks_from_top_hand_values_inside_and_outside_the_top():
    logits = torch.tensor([[0.5, 3.0, 1.0, 3.0, -2.0],
                           [0.5, 3.0, 1.0, 3.0, -2.0],
                           [0.5, 3.0, 1.0, 3.0, -2.0]])
    top = torch.tensor([[3.0, 3.0], [3.0, 3.0], [3.0, 3.0]])
    # chosen 3.0 (tied first: rank 1), 1.0 (two larger: 3), -2.0 (four larger: 5); the last two are outside the top
    assert ranks_from_top(logits, torch.tensor([3, 2, 4]), top).tolist() == [1, 3, 5]


def test_ranks_from_top_reads_the_count_inside_the_top():
    logits = torch.tensor([[4.0, 2.0, 3.0, 1.0]])
    top = torch.tensor([[4.0, 3.0, 2.0]])
    assert ranks_from_top(logits, torch.tensor([1]), top).tolist() == [3]
    assert ranks_from_top(logits, torch.tensor([3]), top).tolist() == [4]


def test_empty_input_gives_empty_arrays():
    stats = token_stats(torch.zeros(0, 4), torch.zeros(0, dtype=torch.long), top_k=3)
    for field in ("prob", "logprob", "entropy", "rank", "margin"):
        assert getattr(stats, field).shape == (0,), field
    assert stats.top_ids.shape == (0, 3)
    assert stats.top_probs.shape == (0, 3)


@pytest.mark.parametrize("logits, ids", [
    (torch.zeros(4), torch.tensor([0])),
    (torch.zeros(1, 2, 4), torch.tensor([0])),
    (torch.zeros(2, 4), torch.tensor([[0, 1]])),
    (torch.zeros(2, 4), torch.tensor([0, 1, 2])),
])
def test_bad_shapes_raise_value_error(logits, ids):
    with pytest.raises(ValueError, match="expected logits"):
        token_stats(logits, ids)


@pytest.mark.parametrize("temperature", [0.0, -1.0, float("nan")])
def test_non_positive_temperature_raises_value_error(temperature):
    with pytest.raises(ValueError, match="temperature"):
        token_stats(LOGITS, torch.tensor([0]), temperature=temperature)
