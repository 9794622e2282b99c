"""How bench/bench_vs_lm_polygraph.py feeds kernel language entropy and CoCoA to lm-polygraph 0.7
(bench/polygraph_feed.py): E = W, C = 1 - W make lm-polygraph's KLE graph 2W, so its t / 2 is UQ Lens's t. Checked on
random affinities against lm-polygraph's formulas written out here (scipy's expm, its kernel normalisation, numpy's
general eig dropping |lambda| <= 1e-8), and, where the bench venv is installed, against
lm-polygraph's own KernelLanguageEntropy and Cocoa estimators fed the same evidence: CoCoA to 1e-12, KLE to about
1e-12 relative (its 1e-12 added to each sqrt(K_ii); without it, 1e-13)."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.linalg import expm

from backend.analyses.kernel_scores import cocoa, kernel_language_entropy
from bench import polygraph_feed as feed

ROOT = Path(__file__).resolve().parents[2]
BENCH_PYTHON = ROOT / ".venv-bench" / "bin" / "python"


def random_affinity(rng: np.random.Generator, k: int) -> np.ndarray:
    w = rng.uniform(size=(k, k))
    w = (w + w.T) / 2
    np.fill_diagonal(w, 1.0)
    return w


def polygraph_kle(entail: np.ndarray, contra: np.ndarray, t: float, scale: bool, eps: float = 1e-12) -> float:
    """lm-polygraph 0.7's KernelLanguageEntropy on one input, its formulas written out (eps: what it adds to each
    sqrt(K_ii) before dividing, which leaves its density's trace 1 - O(1e-12))."""
    e, c = entail + entail.T, contra + contra.T
    graph = e + 0.5 * (2 * np.ones(e.shape) - e - c)
    kernel = expm(-t * (np.diag(graph.sum(axis=0)) - graph))
    diagonal = np.sqrt(np.diag(kernel)) + eps
    density = kernel / np.outer(diagonal, diagonal) / kernel.shape[0]
    values = np.linalg.eig(density)[0].astype(np.float64)
    entropy = -sum(v * math.log(v) for v in values if abs(v) > 1e-8)
    return entropy / math.log(kernel.shape[0]) if scale else entropy


def test_the_fed_matrices_make_lm_polygraphs_graph_twice_uq_lens():
    w = random_affinity(np.random.default_rng(1), 4)
    entail, contra = feed.kle_matrices(w)
    e, c = entail[0] + entail[0].T, contra[0] + contra[0].T
    graph = e + 0.5 * (2 - e - c)
    off = ~np.eye(4, dtype=bool)
    assert graph[off] == pytest.approx(2 * w[off], abs=1e-15)
    assert feed.polygraph_heat_time(0.6) == 0.3


@pytest.mark.parametrize("k", [2, 3, 5, 8])
def test_kle_equals_lm_polygraphs_formula_at_half_the_time(k):
    rng = np.random.default_rng(k)
    for _ in range(5):
        w = random_affinity(rng, k)
        entail, contra = feed.kle_matrices(w)
        ours = kernel_language_entropy(w, 0.6)[0]
        exact = polygraph_kle(entail[0], contra[0], 0.3, scale=False, eps=0.0)
        assert ours == pytest.approx(exact, rel=1e-13)  # the same definition
        # lm-polygraph's 1e-12 on sqrt(K_ii) moves the entropy by about 1e-12 relative (2e-11 at K = 20)
        assert ours == pytest.approx(polygraph_kle(entail[0], contra[0], 0.3, scale=False), rel=1e-10)
        assert ours / math.log(k) == pytest.approx(polygraph_kle(entail[0], contra[0], 0.3, scale=True), rel=1e-10)


def test_the_fed_estimator_replaces_only_the_kle_matrices():
    seen = {}
    fed = feed.Fed(lambda stats: seen.update(stats) or [1.0], feed.kle_replaced, "probe")
    w = np.array([[1.0, 0.25], [0.25, 1.0]])
    assert fed({"semantic_matrix_entail": w[None], "semantic_matrix_contra": np.zeros((1, 2, 2)), "other": 7}) == [1.0]
    assert seen["semantic_matrix_contra"][0] == pytest.approx(1 - w) and seen["other"] == 7
    assert fed.bench_label == "probe"
    assert feed.cocoa_stats([0.5, 1.0])["greedy_sentence_similarity"][0].tolist() == [0.5, 1.0]


POLYGRAPH_SCRIPT = """
import json, sys
import numpy as np
from lm_polygraph.estimators import CocoaMSP, CocoaMTE, CocoaPPL, KernelLanguageEntropy
from bench import polygraph_feed as feed
case = json.loads(sys.stdin.read())
entail, contra = feed.kle_matrices(np.array(case["w"]))
stats = {"semantic_matrix_entail": entail, "semantic_matrix_contra": contra,
         "greedy_log_likelihoods": [np.array(case["logprobs"])], "entropy": [np.array(case["entropies"])],
         **feed.cocoa_stats(case["s"])}
print(json.dumps({"kle": float(KernelLanguageEntropy(t=0.3, scale=False)(stats)[0]),
                  "kle_scaled": float(KernelLanguageEntropy(t=0.3)(stats)[0]),
                  "msp": float(CocoaMSP()(stats)[0]), "ppl": float(CocoaPPL()(stats)[0]),
                  "mte": float(CocoaMTE()(stats)[0])}))
"""


@pytest.mark.slow
@pytest.mark.skipif(not BENCH_PYTHON.exists(), reason="the bench venv (.venv-bench, make bench-venv) is not installed")
def test_against_lm_polygraph_itself_in_the_bench_venv():
    rng = np.random.default_rng(3)
    w = random_affinity(rng, 5)
    logprobs, entropies, s = [-0.1, -1.2, -0.05], [0.3, 1.1, 0.2], [1.0, 0.7, 0.2, 0.0, 0.9]
    case = json.dumps({"w": w.tolist(), "logprobs": logprobs, "entropies": entropies, "s": s})
    done = subprocess.run([str(BENCH_PYTHON), "-c", POLYGRAPH_SCRIPT], input=case, capture_output=True, text=True,
                          cwd=ROOT, timeout=300, check=False, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-2000:]
    theirs = json.loads(done.stdout.strip().splitlines()[-1])
    kle = kernel_language_entropy(w, 0.6)[0]
    assert kle == pytest.approx(theirs["kle"], rel=1e-10)  # its 1e-12 on sqrt(K_ii): about 1e-12 relative
    assert kle / math.log(5) == pytest.approx(theirs["kle_scaled"], rel=1e-10)
    assert cocoa(-sum(logprobs), s) == pytest.approx(theirs["msp"], rel=1e-12)
    assert cocoa(-sum(logprobs) / 3, s) == pytest.approx(theirs["ppl"], rel=1e-12)
    assert cocoa(sum(entropies) / 3, s) == pytest.approx(theirs["mte"], rel=1e-12)
    assert sys.executable != str(BENCH_PYTHON)  # the reference ran in the other venv
