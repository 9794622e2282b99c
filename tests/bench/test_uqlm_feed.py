"""The pure parts of bench/bench_vs_uqlm.py (bench/uqlm_feed.py): UQ Lens's evidence in uqlm's token format, the
answer-vs-samples cosines by hand and against scipy, uqlm's 0.5 + cos / 2 convention, and the reason given when uqlm
is not installed. None of them needs uqlm."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.spatial.distance import cosine as cosine_distance

from bench import uqlm_feed


def test_tokens_in_uqlm_format_carry_logprobs_and_top_alternatives():
    assert uqlm_feed.uqlm_logprobs([-0.1, -2.0]) == [{"logprob": -0.1}, {"logprob": -2.0}]
    tokens = uqlm_feed.uqlm_logprobs([-0.5], [[0.6, 0.25, 0.0]])
    assert tokens[0]["logprob"] == -0.5
    found = [t["logprob"] for t in tokens[0]["top_logprobs"]]
    assert found[:2] == pytest.approx([math.log(0.6), math.log(0.25)]) and found[2] == -math.inf
    with pytest.raises(ValueError, match="one per token"):
        uqlm_feed.uqlm_logprobs([-0.1, -0.2], [[0.9]])


def test_answer_sample_cosines_by_hand_and_against_scipy():
    embeddings = np.array([[2.0, 0.0], [1.0, 0.0], [0.0, 3.0], [-4.0, 0.0], [1.0, 1.0]])
    cosines = uqlm_feed.answer_sample_cosines(embeddings)
    assert cosines == pytest.approx([1.0, 0.0, -1.0, 1 / math.sqrt(2)])
    rng = np.random.default_rng(0)
    random = rng.normal(size=(6, 5))
    reference = [1.0 - cosine_distance(random[0], row) for row in random[1:]]
    assert uqlm_feed.answer_sample_cosines(random) == pytest.approx(reference)
    with pytest.raises(ValueError, match="all zeros"):
        uqlm_feed.answer_sample_cosines(np.zeros((2, 3)))


def test_cosine_in_uqlm_convention_is_the_mean_of_half_plus_half_cos():
    # (1 + 0.5) / 2 = 0.75 and (1 - 1) / 2 = 0: mean 0.375
    assert uqlm_feed.cosine_in_uqlm_convention(np.array([0.5, -1.0])) == pytest.approx(0.375)
    assert uqlm_feed.cosine_in_uqlm_convention(np.array([1.0, 1.0, 1.0])) == pytest.approx(1.0)


def test_missing_uqlm_is_reported_with_the_install_line(monkeypatch):
    monkeypatch.setattr(uqlm_feed.importlib.util, "find_spec", lambda name: None)
    classes, reason = uqlm_feed.import_uqlm()
    assert classes == {}
    assert "make uqlm-venv" in reason and "numpy<2" in reason
