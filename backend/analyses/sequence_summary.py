"""Sequence-level summaries of per-token uncertainty from one generation.

Each summary is computed from the chosen tokens' log-probabilities (natural log) and the entropies (nats) of
their next-token distributions. References: perplexity and length-normalised log-likelihood as in
Malinin & Gales, "Uncertainty Estimation in Autoregressive Structured Prediction" (ICLR 2021); mean and
geometric-mean token probability as in Fomicheva et al., "Unsupervised Quality Estimation for Neural Machine
Translation" (TACL 2020).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence


@dataclass(frozen=True)
class SummarySpec:
    """Metadata shown next to a summary: how to read it and what it was computed from."""

    name: str
    label: str
    description: str
    higher_is: str  # "uncertain" or "confident"
    value_range: str
    compute: Callable[[Sequence[float], Sequence[float]], float]


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


SUMMARIES: dict[str, SummarySpec] = {
    spec.name: spec for spec in (
        SummarySpec("mean_prob", "Mean token probability",
                    "Arithmetic mean of the chosen tokens' probabilities.", "confident", "[0, 1]",
                    lambda lp, ent: _mean([math.exp(x) for x in lp])),
        SummarySpec("geo_mean_prob", "Geometric-mean probability",
                    "exp of the mean log-probability: the per-token probability of the whole sequence.",
                    "confident", "[0, 1]", lambda lp, ent: math.exp(_mean(lp))),
        SummarySpec("mean_entropy", "Mean entropy",
                    "Mean entropy (nats) of the next-token distributions over the answer.", "uncertain",
                    "[0, log V]", lambda lp, ent: _mean(ent)),
        SummarySpec("max_entropy", "Max entropy",
                    "Largest entropy (nats) at any step: the most hesitant moment.", "uncertain", "[0, log V]",
                    lambda lp, ent: max(ent)),
        SummarySpec("perplexity", "Perplexity",
                    "exp of the mean surprisal: 1 means every token was certain.", "uncertain", "[1, inf)",
                    lambda lp, ent: math.exp(-_mean(lp))),
        SummarySpec("sequence_logprob", "Sequence log-probability",
                    "Sum of the chosen tokens' log-probabilities (nats); falls with length.", "confident",
                    "(-inf, 0]", lambda lp, ent: sum(lp)),
    )
}


def summarize(logprobs: Sequence[float], entropies: Sequence[float]) -> dict[str, float]:
    """All summaries of one sequence of T >= 1 tokens.

    logprobs: (T,) natural-log probabilities of the chosen tokens. entropies: (T,) nats.
    Returns {summary name: value}; an empty sequence gives an empty dict (nothing to summarise).
    """
    if len(logprobs) != len(entropies):
        raise ValueError(f"{len(logprobs)} log-probabilities but {len(entropies)} entropies")
    if not logprobs:
        return {}
    return {name: spec.compute(logprobs, entropies) for name, spec in SUMMARIES.items()}
