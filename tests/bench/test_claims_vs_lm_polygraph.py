"""CCP against lm-polygraph 0.7.0 fed the same evidence in the bench venv: its claim-level
ClaimConditionedProbabilityClaim (no_context: the NLI classes of each alternative are given here, both directions)
and its sequence-level ClaimConditionedProbability, on random constructed alternatives and classes. lm-polygraph
skips NLTK stop words (counting every alternative as entailing); UQ Lens does not, so the comparison turns that off
(is_stopword = never): it is the one place the definitions differ. LUQ: lm-polygraph's LUQ has no claims (each
sample against the other samples); its support formula entail / (entail + contradict) is checked on a K = 2 case
where the two coincide."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from backend.claims.evidence import combine_nli
from backend.claims.scores import claim_ccp
from backend.claims.support import claim_support, luq, nli_support

ROOT = Path(__file__).resolve().parents[2]
BENCH_PYTHON = ROOT / ".venv-bench" / "bin" / "python"
CLASSES = ["entail", "neutral", "contra"]

SCRIPT = """
import json, sys
import numpy as np
from lm_polygraph.estimators import LUQ
from lm_polygraph.estimators.claim_conditioned_probability import ClaimConditionedProbability
from lm_polygraph.estimators.claim.claim_conditioned_probability import ClaimConditionedProbabilityClaim
from lm_polygraph.stat_calculators.extract_claims import Claim
case = json.loads(sys.stdin.read())
alternatives = [[(f"w{t}_{j}", lp) for j, lp in enumerate(token)] for t, token in enumerate(case["logprobs"])]
matrices = []
for token in case["classes"]:
    n = len(token) + 1
    m = [["" for _ in range(n)] for _ in range(n)]
    m[0][0] = "entail"
    for j, (forward, backward) in enumerate(token, 1):
        m[0][j], m[j][0] = forward, backward
    matrices.append(m)
claims = [Claim(claim_text="c", sentence="s", aligned_token_ids=ids) for ids in case["claims"]]
stats = {"claims": [claims], "greedy_tokens_alternatives": [alternatives], "greedy_tokens_alternatives_nli": [matrices],
         "greedy_tokens": [[0] * len(alternatives)]}
per_claim = ClaimConditionedProbabilityClaim(is_stopword=lambda t: False)(stats)[0]
sequence = ClaimConditionedProbability()(stats)[0]
e, c = np.log(np.array(case["entail"])), np.log(np.array(case["contra"]))
print(json.dumps({"claims": [float(v) for v in per_claim], "sequence": float(sequence),
                  "luq": float(LUQ()({"semantic_matrix_entail_logits": [e], "semantic_matrix_contra_logits": [c]})[0])}))
"""


def constructed_case(seed: int) -> dict:
    """Eight tokens with 1 to 4 alternatives each (probabilities summing below 1, the chosen token first), each
    alternative's NLI class both ways, and three claims over the tokens."""
    rng = np.random.default_rng(seed)
    logprobs, classes = [], []
    for _ in range(8):
        n = int(rng.integers(1, 5))
        probs = rng.dirichlet(np.ones(n + 1))[:n] * 0.95
        probs = np.sort(probs)[::-1]
        logprobs.append(np.log(probs).tolist())
        classes.append([[str(rng.choice(CLASSES)), str(rng.choice(CLASSES))] for _ in range(n - 1)])
    return {"logprobs": logprobs, "classes": classes, "claims": [[0, 1, 2], [3, 4], [5, 6, 7]],
            "entail": [[1.0, 0.7], [0.2, 1.0]], "contra": [[0.0, 0.1], [0.6, 0.0]]}


def ours(case: dict) -> tuple[list[float], float]:
    """UQ Lens's claim CCPs and its answer-level ccp (the product over claims) on the case."""
    tokens = [[(math.exp(lp), "entail" if j == 0 else combine_nli(*case["classes"][t][j - 1]))
               for j, lp in enumerate(lps)] for t, lps in enumerate(case["logprobs"])]
    per_claim = [claim_ccp([tokens[t] for t in ids]) for ids in case["claims"]]
    return per_claim, math.prod(per_claim)


def test_the_constructed_case_is_hand_checkable():
    case = {"logprobs": [[math.log(0.6), math.log(0.3), math.log(0.1)]], "classes": [[["contra", "neutral"],
                                                                                         ["neutral", "neutral"]]],
            "claims": [[0]]}
    assert ours(case)[0] == pytest.approx([0.6 / 0.9])  # contra + neutral -> contra; neutral counts in neither


@pytest.mark.slow
@pytest.mark.skipif(not BENCH_PYTHON.exists(), reason="the bench venv (.venv-bench, make bench-venv) is not installed")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ccp_and_the_luq_support_formula_equal_lm_polygraphs(seed):
    case = constructed_case(seed)
    done = subprocess.run([str(BENCH_PYTHON), "-c", SCRIPT], input=json.dumps(case), capture_output=True, text=True,
                          cwd=ROOT, timeout=300, check=False, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-2000:]
    theirs = json.loads(done.stdout.strip().splitlines()[-1])
    per_claim, answer = ours(case)
    assert [-v for v in theirs["claims"]] == pytest.approx(per_claim, rel=1e-12)  # lm-polygraph reports -CCP
    assert -theirs["sequence"] == pytest.approx(answer, rel=1e-12)  # its sequence CCP: every token once
    entail, contra = np.array(case["entail"]), np.array(case["contra"])
    support = nli_support(np.array([[entail[0, 1]], [entail[1, 0]]]), np.array([[contra[0, 1]], [contra[1, 0]]]))
    assert luq(claim_support(support)) == pytest.approx(theirs["luq"], rel=1e-12)
    assert sys.executable != str(BENCH_PYTHON)
