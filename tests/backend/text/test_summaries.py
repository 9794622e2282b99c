"""The Text page's summaries: hand values on a 3-token example, and each one is a sequence registry entry whose
label, description, direction and range it shows."""
from __future__ import annotations

import math

import pytest

from backend.schemas import TokenScore
from backend.sequence.methods import METHODS, method_names
from backend.text.summaries import SUMMARIES, summary_scores

PROBS = [0.5, 0.25, 0.8]
LOGPROBS = [math.log(p) for p in PROBS]
ENTROPIES = [0.1, 0.7, 0.4]

# product of the probabilities is 0.1, so the geometric mean is 0.1 ** (1/3)
HAND = {
    "mean_prob": (0.5 + 0.25 + 0.8) / 3,
    "geo_mean_prob": 0.1 ** (1 / 3),
    "mean_entropy": 0.4,
    "max_entropy": 0.7,
    "perplexity": 10 ** (1 / 3),
    "sequence_logprob": math.log(0.1),
}


def tokens(logprobs: list[float], entropies: list[float]) -> list[TokenScore]:
    return [TokenScore(position=i, text="x", id=i, prob=math.exp(lp), logprob=lp, entropy=h, rank=1, margin=0.0,
                       special=False, top_k=[]) for i, (lp, h) in enumerate(zip(logprobs, entropies))]


def values(logprobs: list[float], entropies: list[float]) -> dict[str, float]:
    return {s.name: s.value for s in summary_scores(tokens(logprobs, entropies))}


def test_every_summary_has_a_hand_value_in_table_order():
    assert SUMMARIES.available() == list(HAND)


@pytest.mark.parametrize("name", sorted(HAND))
def test_summary_matches_hand_value(name):
    assert values(LOGPROBS, ENTROPIES)[name] == pytest.approx(HAND[name], abs=1e-12)


def test_hand_values_written_out():
    assert HAND["geo_mean_prob"] == pytest.approx(0.4641588833612779)
    assert HAND["perplexity"] == pytest.approx(2.154434690031884)
    assert HAND["sequence_logprob"] == pytest.approx(-2.302585092994046)


def test_perplexity_is_inverse_of_geometric_mean_probability():
    found = values(LOGPROBS, ENTROPIES)
    assert found["perplexity"] * found["geo_mean_prob"] == pytest.approx(1.0)


def test_certain_sequence_has_perplexity_one_and_zero_entropy():
    assert values([0.0, 0.0], [0.0, 0.0]) == pytest.approx({"mean_prob": 1.0, "geo_mean_prob": 1.0,
                                                            "mean_entropy": 0.0, "max_entropy": 0.0,
                                                            "perplexity": 1.0, "sequence_logprob": 0.0})


def test_single_token_sequence():
    found = values([math.log(0.2)], [1.5])
    assert found["mean_prob"] == pytest.approx(0.2)
    assert found["geo_mean_prob"] == pytest.approx(0.2)
    assert found["perplexity"] == pytest.approx(5.0)
    assert found["max_entropy"] == found["mean_entropy"] == 1.5


def test_a_long_unlikely_answer_keeps_its_log_probability():
    # 400 tokens at p = 0.1: the probability underflows to 0, its log is still -400 ln 10
    assert values([math.log(0.1)] * 400, [1.0] * 400)["sequence_logprob"] == pytest.approx(-400 * math.log(10))


def test_an_answer_without_tokens_has_no_summaries():
    assert summary_scores([]) == []


@pytest.mark.parametrize("name", SUMMARIES.available())
def test_every_summary_names_a_generation_entry_of_the_sequence_registry(name):
    summary = SUMMARIES.get(name)
    assert summary.method in method_names("generation")
    assert summary.spec is METHODS.get(summary.method) and summary.spec.token_value is not None


@pytest.mark.parametrize("name", sorted(set(HAND) - {"sequence_logprob"}))
def test_a_summary_shows_its_entrys_wording(name):
    score = next(s for s in summary_scores(tokens(LOGPROBS, ENTROPIES)) if s.name == name)
    spec = METHODS.get(SUMMARIES.get(name).method)
    assert (score.label, score.description, score.higher_is, score.value_range) == (
        spec.label, spec.description, spec.higher_is, spec.value_range)


def test_the_log_scale_summary_says_so():
    score = summary_scores(tokens(LOGPROBS, ENTROPIES))[-1]
    assert score.name == "sequence_logprob" and score.label == "Sequence probability (log)"
    assert score.higher_is == "confident" and score.value_range == "(-inf, 0]"
    assert score.description.startswith("Natural log (nats) of the sequence probability. Probability of the whole")
