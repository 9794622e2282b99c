"""RAUQ and UQAC on constructed attention, against values computed by hand."""
import math

import numpy as np
import pytest

from backend.analyses import attention_uq as auq


def test_middle_layers_follow_lm_polygraph():
    assert auq.middle_layers(30) == list(range(10, 21))
    assert auq.middle_layers(3) == [1, 2]
    assert auq.middle_layers(1) == [0]


def test_recurrent_confidence_by_hand():
    # c0 = 0.5; c1 = 0.5*0.8 + 0.5*0.6*0.5 = 0.55; c2 = 0.5*0.9 + 0.5*0.2*0.55 = 0.505
    assert auq.recurrent_confidence([0.5, 0.8, 0.9], [0.6, 0.2], 0.5) == pytest.approx([0.5, 0.55, 0.505])


def test_rauq_selects_the_head_with_most_previous_token_attention_and_the_worst_layer():
    probs = [0.5, 0.8, 0.9]
    prev = np.zeros((3, 2, 2))  # layers 1 and 2 are RAUQ's (L = 3)
    prev[1] = [[0.6, 0.2], [0.1, 0.1]]  # head 0 (mean 0.4) is layer 1's
    prev[2] = [[0.0, 0.1], [1.0, 1.0]]  # head 1 is layer 2's
    found = auq.rauq(np.log(probs), prev, 0.5)
    assert found["heads"] == {1: 0, 2: 1}
    layer1 = 1 - np.mean(np.log([0.5, 0.55, 0.505]))
    # layer 2: c1 = 0.4 + 0.5*1*0.5 = 0.65; c2 = 0.45 + 0.5*0.65 = 0.775
    layer2 = 1 - np.mean(np.log([0.5, 0.65, 0.775]))
    assert found["per_layer"] == pytest.approx({1: layer1, 2: layer2})
    assert found["layer"] == 1 and found["value"] == pytest.approx(layer1)
    assert found["confidence"] == pytest.approx([0.5, 0.55, 0.505])


def test_rauq_of_one_token_is_its_surprisal_plus_one():
    assert auq.rauq([math.log(0.25)], np.zeros((3, 2, 0)), 0.5)["value"] == pytest.approx(1 + math.log(4))


def test_reduce_rows_zeroes_own_and_first_key_and_keeps_the_sharpest_heads(monkeypatch):
    monkeypatch.setattr(auq, "UQAC_HEADS", 2)
    rows = np.zeros((1, 3, 1, 4))  # one layer, three heads, one query at position 3 over keys 0..3
    rows[0, 0, 0] = [0.4, 0.3, 0.3, 0.0]  # -> [0, .5, .5, 0], entropy ln 2
    rows[0, 1, 0] = [0.1, 0.1, 0.1, 0.7]  # -> [0, .5, .5, 0] as well (own key 3 zeroed)
    rows[0, 2, 0] = [0.1, 0.9, 0.0, 0.0]  # -> [0, 1, 0, 0], entropy 0
    reduced = auq.reduce_rows(rows, np.array([3]))
    assert reduced[0] == pytest.approx([0, 0.75, 0.25, 0], abs=1e-9)  # mean of heads 2 and (0 or 1)


def test_strongest_keys_are_answer_indices_before_the_query():
    reduced = np.array([[0.1, 0.2, 0.3, 0.4, 0.9]])
    keys, weights = auq.strongest_keys(reduced, 1, np.array([4]))
    assert keys[0, :3].tolist() == [2, 1, 0] and keys[0, 3] == -1
    assert weights[0, :3] == pytest.approx([0.4, 0.3, 0.2])


def _evidence(rows: dict[int, dict[int, float]], t: int, content=None) -> auq.AttentionEvidence:
    keys = np.full((t, auq.TOP_KEYS), -1)
    weights = np.zeros((t, auq.TOP_KEYS))
    for row, pairs in rows.items():
        ordered = sorted(pairs.items(), key=lambda kv: -kv[1])
        keys[row, :len(ordered)] = [k for k, _ in ordered]
        weights[row, :len(ordered)] = [w for _, w in ordered]
    mask = np.ones(t, bool) if content is None else np.array(content)
    return auq.AttentionEvidence(prev=np.zeros((1, 1, t - 1)), keys=keys, weights=weights, content=mask)


def test_attention_chain_follows_the_answer_back(monkeypatch):
    monkeypatch.setattr(auq, "MIN_CHAIN", 0)
    # tokens 0..7; the answer is token 7; it attends to 5 (0.6) and 2 (0.3); 5 attends to 1 (0.5); 2 to 1 (0.2)
    # and to 0 (0.05, below the threshold); token 6 is punctuation.
    ev = _evidence({7: {5: 0.6, 2: 0.3, 6: 0.9}, 5: {1: 0.5, 6: 0.4}, 2: {1: 0.2, 0: 0.05}}, 8,
                   content=[True] * 6 + [False, True])
    chain, weights = auq.attention_chain(ev.keys, ev.weights, ev.content, [7], 0.1)
    assert chain == [1, 2, 5, 7]
    assert weights == pytest.approx([0.7, 0.3, 0.6, 0.0])  # token 1: 0.5 from 5 plus 0.2 from 2


def test_short_chains_take_tokens_below_the_threshold():
    ev = _evidence({3: {2: 0.05, 1: 0.04}}, 4)
    chain, _ = auq.attention_chain(ev.keys, ev.weights, ev.content, [3], 0.1)
    assert chain == [1, 2, 3]  # the chain is shorter than 1 + MIN_CHAIN: both join although below 0.1


def test_uqac_is_the_product_of_the_chain_probabilities(monkeypatch):
    monkeypatch.setattr(auq, "MIN_CHAIN", 0)
    ev = _evidence({3: {1: 0.8}, 1: {0: 0.05}}, 4)
    probs = [0.9, 0.5, 0.7, 0.6]
    found = auq.uqac(np.log(probs), ev, answer_tokens=1, threshold=0.1)
    assert found["answer_span"] == [3] and found["chain"] == [1, 3]
    assert found["value"] == pytest.approx(0.5 * 0.6) and found["answer_probability"] == pytest.approx(0.6)


def test_answer_span_skips_non_content_tokens():
    assert auq.answer_span([True, True, False, True, False], 2) == [1, 3]
    assert auq.answer_span([False, False], 3) == [1]
