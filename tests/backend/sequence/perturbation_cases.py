"""A hand-valued Inv-Entropy case for the registry's table of hand values (tests/backend/sequence/test_methods.py):
two prompts (the question with two answers, one rewording with one), orthogonal prompt embeddings, the second
answer meaning the same as the third and nothing like the first."""
from __future__ import annotations

import math

import numpy as np

from backend.analyses.evidence import Evidence
from backend.sequence.perturbation import PerturbationEvidence

# |cos| of the pairs' prompts: pairs 1 and 2 share the question, pair 3 has the rewording (orthogonal);
# of the answers: 2 and 3 identical, 1 orthogonal to both. P_X = [[.5 .5 0] [.5 .5 0] [0 0 1]],
# P_Y = [[1 0 0] [0 .5 .5] [0 .5 .5]], so p(x | y) = P_Y P_X = [[.5 .5 0] [.25 .25 .5] [.25 .25 .5]],
# q = (.5, .25, .5) and Inv-Entropy = -(2 x .5 ln .5 + .25 ln .25) = 1.5 ln 2, of at most N/e = 3/e.
INV_ENTROPY_VALUE = 1.5 * math.log(2)


def perturbed_evidence() -> Evidence:
    """The three (prompt, answer) pairs above, with the question's two answers first."""
    found = PerturbationEvidence(prompts=["Why?", "Question: why?"], answers=[["a", "b"], ["b"]],
                                 prompt_embeddings=np.array([[1.0, 0.0], [0.0, 2.0]]),
                                 answer_embeddings=np.array([[0.0, 0.0, 3.0], [1.0, 1.0, 0.0], [2.0, 2.0, 0.0]]))
    return Evidence(logprobs=[math.log(0.5)], entropies=[0.1], special=[False], vocab_size=10, perturbation=found)


PERTURBATION_HAND = {"inv_entropy": [(perturbed_evidence, INV_ENTROPY_VALUE, INV_ENTROPY_VALUE / (3 / math.e))]}
