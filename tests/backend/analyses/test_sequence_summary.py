"""Sequence summaries: hand values on a 3-token example."""
from __future__ import annotations

import math

import pytest

from backend.analyses.sequence_summary import SUMMARIES, summarize

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


def test_every_summary_has_a_hand_value():
    assert set(SUMMARIES) == set(HAND)


@pytest.mark.parametrize("name", sorted(HAND))
def test_summary_matches_hand_value(name):
    assert summarize(LOGPROBS, ENTROPIES)[name] == pytest.approx(HAND[name], abs=1e-12)


def test_hand_values_written_out():
    assert HAND["geo_mean_prob"] == pytest.approx(0.4641588833612779)
    assert HAND["perplexity"] == pytest.approx(2.154434690031884)
    assert HAND["sequence_logprob"] == pytest.approx(-2.302585092994046)


def test_perplexity_is_inverse_of_geometric_mean_probability():
    values = summarize(LOGPROBS, ENTROPIES)
    assert values["perplexity"] * values["geo_mean_prob"] == pytest.approx(1.0)


def test_certain_sequence_has_perplexity_one_and_zero_entropy():
    values = summarize([0.0, 0.0], [0.0, 0.0])
    assert values == pytest.approx({"mean_prob": 1.0, "geo_mean_prob": 1.0, "mean_entropy": 0.0,
                                    "max_entropy": 0.0, "perplexity": 1.0, "sequence_logprob": 0.0})


def test_single_token_sequence():
    values = summarize([math.log(0.2)], [1.5])
    assert values["mean_prob"] == pytest.approx(0.2)
    assert values["geo_mean_prob"] == pytest.approx(0.2)
    assert values["perplexity"] == pytest.approx(5.0)
    assert values["max_entropy"] == values["mean_entropy"] == 1.5


def test_empty_sequence_gives_empty_dict():
    assert summarize([], []) == {}


@pytest.mark.parametrize("logprobs, entropies", [([-1.0, -2.0], [0.5]), ([], [0.5]), ([-1.0], [])])
def test_length_mismatch_raises_value_error(logprobs, entropies):
    with pytest.raises(ValueError, match="log-probabilities"):
        summarize(logprobs, entropies)


@pytest.mark.parametrize("name", sorted(SUMMARIES))
def test_spec_metadata_is_complete(name):
    spec = SUMMARIES[name]
    assert spec.name == name
    assert spec.higher_is in {"uncertain", "confident"}
    assert spec.label and spec.description and spec.value_range


def test_directions_of_known_summaries():
    assert SUMMARIES["perplexity"].higher_is == "uncertain"
    assert SUMMARIES["mean_entropy"].higher_is == "uncertain"
    assert SUMMARIES["max_entropy"].higher_is == "uncertain"
    assert SUMMARIES["mean_prob"].higher_is == "confident"
    assert SUMMARIES["geo_mean_prob"].higher_is == "confident"
    assert SUMMARIES["sequence_logprob"].higher_is == "confident"
