"""The Text page's summaries of an answer: each names a generation entry of the sequence registry
(backend.sequence.methods), whose label, description, direction and range it shows, and whose token_value gives
its number from the answer's token log-probabilities and entropies (nats).

The summary names (mean_prob, geo_mean_prob, ...) are those TextAnalysis.summaries and saved analyses have always
used; only sequence_logprob shows its entry on a log scale.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from backend.analyses import generation_scores as gen
from backend.registry import Registry
from backend.schemas import Score, TokenScore
from backend.sequence.method_spec import MethodSpec, TokenValue
from backend.sequence.methods import METHODS


@dataclass(frozen=True)
class Summary:
    """A summary shown on the Text page: its public name and the sequence method it shows.

    log_value: shows the method (a probability) as its natural log, computed in log space by this function
    (where the probability underflows to 0 its log still has a value).
    """

    name: str
    method: str
    log_value: Optional[TokenValue] = None

    @property
    def spec(self) -> MethodSpec:
        """The sequence registry entry this summary shows."""
        return METHODS.get(self.method)

    def value(self, logprobs: list[float], entropies: list[float]) -> float:
        """The summary of an answer of T >= 1 tokens: logprobs (T,) and entropies (T,), nats."""
        compute = self.log_value or self.spec.token_value
        return compute(logprobs, entropies)

    def score(self, logprobs: list[float], entropies: list[float]) -> Score:
        """The value with its entry's label, direction, range and description (on a log scale: said so)."""
        spec = self.spec
        if self.log_value is None:
            return Score(name=self.name, label=spec.label, value=self.value(logprobs, entropies),
                         higher_is=spec.higher_is, value_range=spec.value_range, description=spec.description)
        return Score(name=self.name, label=f"{spec.label} (log)", value=self.value(logprobs, entropies),
                     higher_is=spec.higher_is, value_range="(-inf, 0]",
                     description=f"Natural log (nats) of the {spec.label.lower()}. {spec.description}")


def default_summaries() -> Registry[Summary]:
    """The summaries the Text page shows, in its order."""
    registry: Registry[Summary] = Registry("summary")
    for summary in (
        Summary("mean_prob", "mean_token_probability"),
        Summary("geo_mean_prob", "geometric_mean_probability"),
        Summary("mean_entropy", "mean_token_entropy"),
        Summary("max_entropy", "max_token_entropy"),
        Summary("perplexity", "perplexity"),
        Summary("sequence_logprob", "sequence_probability",
                log_value=lambda logprobs, _entropies: gen.sequence_log_probability(logprobs)),
    ):
        registry.register(summary)
    return registry


SUMMARIES = default_summaries()


def summary_scores(tokens: list[TokenScore]) -> list[Score]:
    """Every summary of the answer's tokens, in table order; none for an answer without tokens."""
    if not tokens:
        return []
    logprobs, entropies = [t.logprob for t in tokens], [t.entropy for t in tokens]
    return [summary.score(logprobs, entropies) for summary in SUMMARIES]
