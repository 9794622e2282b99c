"""SAR (Duan et al.): hand values and a re-implementation of lm-polygraph's formulas as the reference.

Both follow: relevance R_i = 1 - g(x + z, x + z without z_i) with special tokens at 0, weights R_i / sum R;
TokenSAR = sum_i -ln p(z_i) * weight_i; SentenceSAR = mean_j -ln(p_j + sum_{k != j} g_jk p_k / t), t = 0.001;
SAR = SentenceSAR with p_j = exp(-TokenSAR_j). (lm-polygraph's g is a cross-encoder score; UQ Lens uses the
embedding model's cosine, clipped at 0.)
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from backend.analyses.sar import sar, sentence_sar, token_relevance, token_sar


def polygraph_sentence_sar(log_probs: np.ndarray, similarity: np.ndarray, t: float = 0.001) -> float:
    """lm-polygraph's SentenceSAR written out."""
    probs = np.exp(log_probs)
    r_s = probs * similarity * (1 - np.eye(similarity.shape[0]))
    return float((-np.log(r_s.sum(-1) / t + probs)).mean())


def test_token_relevance_hand_values():
    relevance, weights = token_relevance([0.9, 0.6, 1.0], [False, False, True])
    assert relevance == pytest.approx([0.1, 0.4, 0.0])
    assert weights == pytest.approx([0.2, 0.8, 0.0])


def test_special_tokens_get_no_relevance_and_similarity_is_clipped():
    relevance, _ = token_relevance([0.2, 1.3, -0.5], [True, False, False])
    assert relevance == [0.0, 0.0, 1.0]


def test_token_sar_hand_value():
    # 0.2 * ln 2 + 0.8 * ln 4
    value = token_sar([math.log(0.5), math.log(0.25), math.log(0.9)], [0.2, 0.8, 0.0])
    assert value == pytest.approx(0.2 * math.log(2) + 0.8 * math.log(4))


def test_no_relevant_token_gives_zero_weights_and_zero_token_sar():
    _, weights = token_relevance([1.0, 1.0], [False, False])
    assert weights == [0.0, 0.0]
    assert token_sar([-1.0, -2.0], weights) == 0.0


def test_sentence_sar_hand_value():
    # p = (0.5, 0.25), g12 = 0.8, t = 1: E1 = -ln(0.5 + 0.8 * 0.25) = -ln 0.7, E2 = -ln(0.25 + 0.8 * 0.5) = -ln 0.65
    g = np.array([[1.0, 0.8], [0.8, 1.0]])
    value, per_answer = sentence_sar([0.5, 0.25], g, temperature=1.0)
    assert per_answer == pytest.approx([-math.log(0.7), -math.log(0.65)])
    assert value == pytest.approx((-math.log(0.7) - math.log(0.65)) / 2)


def test_unrelated_answers_reduce_sentence_sar_to_mean_surprisal():
    probs = [0.5, 0.25, 0.125]
    value, _ = sentence_sar(probs, np.eye(3))
    assert value == pytest.approx(np.mean([-math.log(p) for p in probs]))


def test_sentence_sar_matches_lm_polygraph_formula():
    rng = np.random.default_rng(0)
    log_probs = rng.uniform(-8, -0.1, 6)
    g = rng.uniform(0, 1, (6, 6))
    g = (g + g.T) / 2
    assert sentence_sar(np.exp(log_probs), g)[0] == pytest.approx(polygraph_sentence_sar(log_probs, g))


def test_sar_uses_token_sar_probabilities():
    g = np.array([[1.0, 0.5], [0.5, 1.0]])
    token_values = [0.3, 1.2]
    assert sar(token_values, g)[0] == pytest.approx(polygraph_sentence_sar(-np.array(token_values), g))


def test_agreeing_answers_lower_sentence_sar():
    probs = [0.1, 0.1, 0.1]
    agree, _ = sentence_sar(probs, np.ones((3, 3)))
    disagree, _ = sentence_sar(probs, np.eye(3))
    assert agree < disagree


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="similarity must be"):
        sentence_sar([0.5, 0.5], np.eye(3))
    with pytest.raises(ValueError, match="t must be"):
        sentence_sar([0.5], np.eye(1), temperature=0)
    with pytest.raises(ValueError, match="special"):
        token_relevance([0.5], [True, False])
