"""uqlm's side of bench/bench_vs_uqlm.py, run under .venv-uqlm (`make uqlm-venv`):

    .venv-uqlm/bin/python bench/uqlm_worker.py EVIDENCE.json    (started by the bench; see peer_protocol)

The evidence file holds UQ Lens's analysed answer in uqlm's token format (log-probabilities, with the top-k
alternatives), the answer and K sample texts, and UQ Lens's embedding-model folder. Operations: uqlm's offline
white-box scorers (SingleLogprobsScorer, TopLogprobsScorer) and black-box CosineScorer and MatchScorer on them.
"""
from __future__ import annotations

import importlib.metadata
from typing import Any

from peer_protocol import Operation, serve
from uqlm_feed import import_uqlm


def build(evidence: dict[str, Any]) -> tuple[dict[str, Operation], dict[str, str], str]:
    """The operations on the evidence, why all are left out when uqlm's modules do not import, uqlm's version."""
    u, missing = import_uqlm()
    if not u:
        return {}, {"*": missing}, ""
    if evidence["threads"]:
        import torch  # sentence-transformers' (CosineScorer's) torch

        torch.set_num_threads(evidence["threads"])
    tokens, top = [evidence["tokens"]], [evidence["tokens_with_alternatives"]]
    single = u["SingleLogprobsScorer"](length_normalize=False)
    normalised = u["SingleLogprobsScorer"](length_normalize=True)
    top_scorer = u["TopLogprobsScorer"](top_k_logprobs=evidence["top_k"])
    cosine = u["CosineScorer"](transformer=evidence["embedder_path"])
    match = u["MatchScorer"]()
    answer, samples = evidence["answer"], evidence["sample_texts"]
    operations = {
        "sequence_probability": lambda: single.evaluate(tokens)["sequence_probability"][0],
        "geometric_mean_probability": lambda: normalised.evaluate(tokens)["sequence_probability"][0],
        "min_probability": lambda: normalised.evaluate(tokens)["min_probability"][0],
        "probability_margin": lambda: top_scorer.evaluate(top)["probability_margin"][0],
        "mean_token_negentropy": lambda: top_scorer.evaluate(top)["mean_token_negentropy"][0],
        "cosine": lambda: cosine._compute_score(answer, samples),
        "match": lambda: match._compute_score(answer, samples),
    }
    return operations, {}, importlib.metadata.version("uqlm")


if __name__ == "__main__":
    raise SystemExit(serve(build))
