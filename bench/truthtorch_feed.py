"""UQ Lens's evidence in the forms TruthTorchLM's truth methods take, for bench/bench_vs_truthtorchlm.py (pure
functions; standard library only, so that the bench's venv and .venv-truthtorch both import it).

TruthTorchLM (0.1.19) asks an NLI model (a transformers sequence classifier: contradiction, neutral, entailment)
about pairs of answers, in two ways:
  - clustering (semantic entropy, number of semantic sets): argmax class of (context + " " + a, context + " " + b);
    a joins a cluster when neither direction is 'contradiction';
  - affinity (EigV, degree, eccentricity): W[i, j] = mean over both directions of 1 - softmax(logits / T)[contra].
The worker stands in for that model with UQ Lens's own decisions: same_meaning_logits gives the class UQ Lens's
'same meaning' matrix decides, affinity_logits logits whose 1 - softmax(. / T)[0] is UQ Lens's affinity, so that
TruthTorchLM's formulas run on exactly the relation UQ Lens scored.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

CONTRADICTION, NEUTRAL, ENTAILMENT = 0, 1, 2


def pair_index(text: str, context: str, texts: Sequence[str]) -> int:
    """The index in texts of the answer in TruthTorchLM's NLI input `context + " " + answer` (the first of equal
    texts: equal texts get the same decisions)."""
    prefix = context + " "
    if not text.startswith(prefix):
        raise ValueError(f"an NLI input that does not start with the question: {text[:60]!r}")
    answer = text[len(prefix):]
    try:
        return list(texts).index(answer)
    except ValueError:
        raise ValueError(f"an NLI input whose answer is none of the K samples: {answer[:60]!r}") from None


def same_meaning_logits(same: bool) -> list[float]:
    """3 logits (contradiction, neutral, entailment) whose argmax is entailment when UQ Lens says same meaning,
    contradiction otherwise."""
    return [0.0, 0.0, 1.0] if same else [1.0, 0.0, 0.0]


def affinity_logits(affinity: float, temperature: float) -> list[float]:
    """3 logits whose softmax(logits / temperature) is (1 - a, a / 2, a / 2): TruthTorchLM's
    1 - P(contradiction) is then UQ Lens's affinity a in [0, 1] (-inf where a probability is 0)."""
    if not 0.0 <= affinity <= 1.0 + 1e-9:
        raise ValueError(f"an affinity must lie in [0, 1], got {affinity}")
    a = min(affinity, 1.0)
    probs = [1.0 - a, a / 2, a / 2]
    return [temperature * math.log(p) if p > 0 else -math.inf for p in probs]


def truthtorch_semantic_entropy(mean_logprobs: Sequence[float], clusters: Sequence[Sequence[int]]) -> float:
    """TruthTorchLM's semantic entropy on given clusters of the K samples: the mean over clusters of
    -log(sum over the cluster's samples of exp(score)), score the sample's mean token log-probability (its default
    LengthNormalizedScoring); nats. Not Kuhn et al.'s -sum p log p: the cluster masses are not normalised."""
    if not clusters:
        raise ValueError("no clusters: give at least one")
    total = 0.0
    for cluster in clusters:
        scores = [mean_logprobs[i] for i in cluster]
        top = max(scores)
        total -= top + math.log(sum(math.exp(s - top) for s in scores))
    return total / len(clusters)


def sampled_generations(texts: Sequence[str], token_logprobs: Sequence[Sequence[float]]) -> dict[str, Any]:
    """TruthTorchLM's sampled_generations_dict for K given samples: their texts and per-token log-probabilities
    (nats), so that its methods score these samples instead of drawing their own."""
    if len(texts) != len(token_logprobs):
        raise ValueError(f"{len(texts)} sample texts but {len(token_logprobs)} lists of log-probabilities")
    return {"generated_texts": list(texts), "logprobs": [list(map(float, lps)) for lps in token_logprobs]}

