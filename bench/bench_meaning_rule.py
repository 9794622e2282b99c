"""How well the embedding meaning rule separates same-meaning from different-meaning answers, before and after.

Before: the cosine of the two whole answers' all-MiniLM-L6-v2 embeddings, same meaning at >= 0.85.
After (the default now): backend.analyses.meaning_graph.claim_affinity on the answers with the question's words
removed (1 when one only adds words to the other), same meaning at >= DEFAULT_SIMILARITY_THRESHOLD.
Pairs: backend/datasets/meaning_pairs.jsonl (built from the bundled questions by bench/meaning_pairs.py).
Prints, for each rule, AUROC of its affinity, the best accuracy over thresholds (0.01 grid) and where, the
accuracy at its threshold and at a few others, and the mean affinity per kind of pair.

    .venv/bin/python bench/bench_meaning_rule.py
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.analyses.meaning_graph import claim_affinity, strip_question_words  # noqa: E402
from backend.engine import Engine  # noqa: E402
from backend.schemas import DEFAULT_EMBEDDING_MODEL, DEFAULT_SIMILARITY_THRESHOLD  # noqa: E402

PAIRS = ROOT / "backend" / "datasets" / "meaning_pairs.jsonl"
BEFORE_THRESHOLD = 0.85
SHOWN_THRESHOLDS = (0.65, 0.7, 0.75, 0.8, 0.85, 0.9)
GRID = np.round(np.arange(0.0, 1.001, 0.01), 2)
EXAMPLES = [("What is the capital of Australia?", "The capital of Australia is Canberra.",
             "The capital of Australia is Canberra, also known as the Bush Capital."),
            ("What is the capital of Australia?", "The capital of Australia is Canberra.",
             "The capital of Australia is Sydney.")]


def unit_vectors(embed, texts: list[str]) -> dict[str, np.ndarray]:
    """Each distinct text's unit embedding, from one batched call."""
    distinct = list(dict.fromkeys(texts))
    vectors = np.asarray(embed(distinct), dtype=np.float64)
    return {t: v / max(np.linalg.norm(v), 1e-12) for t, v in zip(distinct, vectors)}


def whole_scores(embed, pairs: list[tuple[str, str, str]]) -> np.ndarray:
    """Before: cosine (negatives as 0) of the whole answers, one per (question, a, b)."""
    vectors = unit_vectors(embed, [t for _, a, b in pairs for t in (a, b)])
    return np.array([max(0.0, float(vectors[a] @ vectors[b])) for _, a, b in pairs])


def claim_scores(embed, pairs: list[tuple[str, str, str]]) -> np.ndarray:
    """After: claim_affinity of each pair's answers with the question's words removed."""
    stripped = [(strip_question_words(a, q), strip_question_words(b, q)) for q, a, b in pairs]
    vectors = unit_vectors(embed, [t for pair in stripped for t in pair])
    return np.array([claim_affinity(list(pair), np.stack([vectors[pair[0]], vectors[pair[1]]]))[0, 1]
                     for pair in stripped])


def separation(scores: np.ndarray, same: np.ndarray, threshold: float) -> dict[str, float]:
    """AUROC, best accuracy over GRID and its threshold, accuracy at `threshold` (same meaning at >=)."""
    accuracies = [float(((scores >= t) == same).mean()) for t in GRID]
    best = int(np.argmax(accuracies))
    return {"auroc": float(roc_auc_score(same, scores)), "best_accuracy": accuracies[best],
            "best_threshold": float(GRID[best]), "accuracy": float(((scores >= threshold) == same).mean())}


def main() -> None:
    rows = [json.loads(line) for line in PAIRS.read_text().splitlines() if line.strip()]
    pairs = [(r["question"], r["a"], r["b"]) for r in rows]
    same = np.array([r["same"] for r in rows])
    embed = Engine(device="cpu").embedding_model(DEFAULT_EMBEDDING_MODEL).embed
    print(f"{len(rows)} pairs from {PAIRS.relative_to(ROOT)} ({int(same.sum())} same meaning, "
          f"{int((~same).sum())} different)")
    kinds = sorted({r["kind"] for r in rows})
    for name, scorer, threshold in (("before: whole-answer cosine", whole_scores, BEFORE_THRESHOLD),
                                    ("after: claim rule", claim_scores, DEFAULT_SIMILARITY_THRESHOLD)):
        scores = scorer(embed, pairs)
        s = separation(scores, same, threshold)
        print(f"\n{name}: AUROC {s['auroc']:.3f}; accuracy {s['accuracy']:.3f} at threshold {threshold:g}; "
              f"best accuracy {s['best_accuracy']:.3f} at threshold {s['best_threshold']:g}")
        print("    accuracy by threshold: " + ", ".join(f"{t:g}: {((scores >= t) == same).mean():.3f}"
                                                     for t in SHOWN_THRESHOLDS))
        for kind in kinds:
            chosen = scores[[r["kind"] == kind for r in rows]]
            print(f"    {kind:42s} mean {chosen.mean():.2f}  min {chosen.min():.2f}  max {chosen.max():.2f}")
        examples = scorer(embed, EXAMPLES)
        print("    " + "; ".join(f"{b!r}: {v:.2f}" for (_, _, b), v in zip(EXAMPLES, examples))
              + f" (each beside {EXAMPLES[0][1]!r})")


if __name__ == "__main__":
    main()
