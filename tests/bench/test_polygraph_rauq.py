"""RAUQ against lm-polygraph 0.7's RAUQ estimator fed the same previous-token attention and token probabilities
(bench/polygraph_attention.py), in the bench venv; and the fed statistic's layout."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from backend.analyses.attention_uq import rauq
from bench import polygraph_attention as feed

ROOT = Path(__file__).resolve().parents[2]
BENCH_PYTHON = ROOT / ".venv-bench" / "bin" / "python"
SCRIPT = """
import json, sys
import numpy as np
from lm_polygraph import estimators as est
from bench import polygraph_attention as feed
cases = json.loads(sys.stdin.read())
out = []
for case in cases:
    prev = np.array(case["prev"]).reshape(case["shape"])
    stats = {"greedy_log_likelihoods": [np.array(case["logprobs"])],
             **feed.attention_stats(type("A", (), {"prev": prev})())}
    out.append(float(feed.SizedRAUQ(est, case["alpha"])(stats)[0]))
print(json.dumps(out))
"""


def test_the_fed_statistic_puts_prev_below_the_diagonal():
    prev = np.arange(12, dtype=float).reshape(2, 2, 3)
    full = feed.attention_all(prev)
    assert full.shape == (4, 4, 4)
    assert np.diagonal(full, offset=-1, axis1=1, axis2=2).tolist() == prev.reshape(4, 3).tolist()
    assert full.sum() == prev.sum()


def _cases(rng: np.random.Generator) -> list[dict]:
    cases = []
    for n_layers, n_heads, t, alpha in [(3, 2, 5, 0.5), (6, 4, 12, 0.2), (30, 9, 40, 0.5), (4, 3, 1, 0.5)]:
        prev = rng.dirichlet(np.ones(4), size=(n_layers, n_heads, max(t - 1, 0)))[..., 0]
        logprobs = np.log(rng.uniform(0.05, 1.0, size=t))
        cases.append({"prev": prev.ravel().tolist(), "shape": [n_layers, n_heads, t - 1],
                      "logprobs": logprobs.tolist(), "alpha": alpha})
    return cases


@pytest.mark.skipif(not BENCH_PYTHON.exists(), reason="the bench venv (.venv-bench, make bench-venv) is not installed")
def test_against_lm_polygraph_itself_in_the_bench_venv():
    cases = _cases(np.random.default_rng(5))
    done = subprocess.run([str(BENCH_PYTHON), "-c", SCRIPT], input=json.dumps(cases), capture_output=True, text=True,
                          cwd=ROOT, timeout=300, check=False, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-2000:]
    theirs = json.loads(done.stdout.strip().splitlines()[-1])
    ours = [rauq(c["logprobs"], np.array(c["prev"]).reshape(c["shape"]), c["alpha"])["value"] for c in cases]
    assert ours == pytest.approx(theirs, rel=1e-12)
    assert sys.executable != str(BENCH_PYTHON)  # the reference ran in the other venv
