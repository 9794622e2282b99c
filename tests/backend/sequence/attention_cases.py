"""Hand-valued RAUQ and UQAC cases for the registry's table of hand values (tests/backend/sequence/test_methods.py):
the constructed attention of tests/backend/analyses/test_attention_uq.py."""
from __future__ import annotations

import math

import numpy as np

from backend.analyses.attention_uq import TOP_KEYS, AttentionEvidence
from backend.analyses.evidence import Evidence

PROBS = [0.5, 0.8, 0.9]


def rauq_evidence() -> Evidence:
    """Layers 1 and 2 of 3 are RAUQ's; layer 1's head 0 gives c = 0.5, 0.55, 0.505 at alpha 0.5."""
    prev = np.zeros((3, 2, 2))
    prev[1] = [[0.6, 0.2], [0.1, 0.1]]
    prev[2] = [[0.0, 0.1], [1.0, 1.0]]
    keys, weights = np.full((3, TOP_KEYS), -1), np.zeros((3, TOP_KEYS))
    keys[2, :2], weights[2, :2] = [0, 1], [0.6, 0.3]  # the answer (token 2) attends to 0 and 1
    return Evidence(logprobs=[math.log(p) for p in PROBS], entropies=[0.1] * 3, special=[False] * 3, vocab_size=10,
                    attention=AttentionEvidence(prev=prev, keys=keys, weights=weights, content=np.ones(3, bool)))


RAUQ_VALUE = 1 - float(np.mean(np.log([0.5, 0.55, 0.505])))
# UQAC: the last 3 content tokens are the whole answer, so the chain is tokens 0..2: 0.5 * 0.8 * 0.9
ATTENTION_HAND = {"rauq": [(rauq_evidence, RAUQ_VALUE, 1 - math.exp(1 - RAUQ_VALUE))],
                  "uqac": [(rauq_evidence, 0.36, 0.36)]}
