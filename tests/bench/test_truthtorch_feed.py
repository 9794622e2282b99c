"""The pure parts of bench/bench_vs_truthtorchlm.py (bench/truthtorch_feed.py): the NLI stand-in's logits give back
UQ Lens's decisions and affinities through TruthTorchLM's own reading of them (argmax; 1 - softmax(logits / T)[0]),
its semantic-entropy formula by hand and against scipy's logsumexp, the pair lookup, the sampled-generations dict.
None of them needs TruthTorchLM."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import logsumexp, softmax

from bench import truthtorch_feed as feed


def test_same_meaning_logits_argmax_is_entailment_or_contradiction():
    assert int(np.argmax(feed.same_meaning_logits(True))) == feed.ENTAILMENT
    assert int(np.argmax(feed.same_meaning_logits(False))) == feed.CONTRADICTION


@pytest.mark.parametrize("affinity", [0.0, 0.05, 0.5, 0.73, 1.0])
@pytest.mark.parametrize("temperature", [1.0, 3.0])
def test_affinity_logits_read_back_as_the_affinity(affinity, temperature):
    # TruthTorchLM's entailment_probability: 1 - softmax(logits / T)[contradiction]
    logits = np.array(feed.affinity_logits(affinity, temperature))
    assert 1.0 - softmax(logits / temperature)[0] == pytest.approx(affinity, abs=1e-12)


def test_affinity_outside_zero_one_is_refused():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        feed.affinity_logits(1.2, 3.0)


def test_truthtorch_semantic_entropy_by_hand_and_against_logsumexp():
    scores = [math.log(0.2), math.log(0.3), math.log(0.1)]
    # clusters {0, 1} (mass 0.5) and {2} (mass 0.1): mean of -log 0.5 and -log 0.1
    expected = (-math.log(0.5) - math.log(0.1)) / 2
    assert feed.truthtorch_semantic_entropy(scores, [[0, 1], [2]]) == pytest.approx(expected)
    rng = np.random.default_rng(0)
    many = rng.normal(-3.0, 1.0, size=7)
    clusters = [[0, 3, 5], [1], [2, 4, 6]]
    reference = float(np.mean([-logsumexp(many[c]) for c in clusters]))
    assert feed.truthtorch_semantic_entropy(many.tolist(), clusters) == pytest.approx(reference)
    with pytest.raises(ValueError, match="no clusters"):
        feed.truthtorch_semantic_entropy(scores, [])


def test_pair_index_strips_the_question_and_finds_the_first_equal_text():
    texts = ["Newton found gravity.", "Curie found radium.", "Newton found gravity."]
    assert feed.pair_index("Who? Curie found radium.", "Who?", texts) == 1
    assert feed.pair_index("Who? Newton found gravity.", "Who?", texts) == 0
    with pytest.raises(ValueError, match="start with the question"):
        feed.pair_index("Newton found gravity.", "Who?", texts)
    with pytest.raises(ValueError, match="none of the K samples"):
        feed.pair_index("Who? Darwin.", "Who?", texts)


def test_sampled_generations_carry_texts_and_token_logprobs():
    found = feed.sampled_generations(["a", "b"], [[-0.1, -0.2], [-1.0]])
    assert found == {"generated_texts": ["a", "b"], "logprobs": [[-0.1, -0.2], [-1.0]]}
    with pytest.raises(ValueError, match="2 sample texts but 1"):
        feed.sampled_generations(["a", "b"], [[-0.1]])
