"""What a sequence method is: its registry entry (MethodSpec), its result (MethodResult), running it, and the
text-model capabilities its evidence requires.

What a method requires of the text model (`MethodSpec.requires`, capabilities in the vocabulary of
backend.models.registry.CAPABILITIES_BY_ENGINE) is derived from its evidence through one table, EVIDENCE_REQUIRES,
so it is written once: a method needing kurtosis requires the full distribution, one needing K samples the token
log-probabilities, and any method on a given answer (not generated) requires scoring a given answer.
`exact_requires` names what the value needs to be exact: without it (a served model's top-k) the value is an
estimate, with valid bounds (value_bounds).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Literal, Mapping, Optional, Sequence

from backend.analyses.evidence import Evidence, required_evidence
from backend.models.registry import CAPABILITIES_BY_ENGINE, IN_PROCESS
from backend.parameters import Parameter, check_parameters
from backend.schemas import MethodInfo

Group = Literal["generation", "samples", "ask"]
TokenValue = Callable[[Sequence[float], Sequence[float]], float]
"""(logprobs (T,), entropies (T,)) of an answer's T >= 1 tokens, in nats -> the method's raw value."""

EVIDENCE_REQUIRES: dict[str, tuple[str, ...]] = {  # evidence -> the text-model capabilities gathering it takes
    "generation": ("token_logprobs",),
    "kurtosis": ("full_distribution",),
    "token_relevance": (),  # the answer's token texts and the embedding model
    "samples": ("token_logprobs",),
    "sample_embeddings": (),
    "meaning": (),
    "answer_meaning": (),  # the analysed answer's text against the samples', by the meaning model
    "sample_token_relevance": (),
    "claims": (),  # the answer's text and token texts
    "claim_alternatives": ("token_logprobs",),  # each claim token's top-k alternatives
    "claim_support": (),  # the claims against the samples' texts, by the meaning model
    "verbalized": (),  # one greedy reply
    "p_true": ("token_logprobs",),  # the first reply token's top log-probabilities
    "attention": ("attention",),  # RAUQ, UQAC: attention weights of an in-process model
    "perturbations": ("generate",),  # Inv-Entropy: new prompts answered by the model
}
GIVEN_ANSWER_REQUIRES = ("score_given_answer",)
CAPABILITY_ORDER = CAPABILITIES_BY_ENGINE[IN_PROCESS]  # every capability, in the registry's order


def capabilities_for(needs: Iterable[str], *, given_answer: bool = False) -> tuple[str, ...]:
    """The text-model capabilities that evidence `needs` (with what it depends on) requires, in CAPABILITY_ORDER;
    given_answer: the analysed answer is given, so it must be scored rather than generated."""
    wanted = {cap for name in required_evidence(set(needs), "") for cap in EVIDENCE_REQUIRES[name]}
    if given_answer:
        wanted.update(GIVEN_ANSWER_REQUIRES)
    return tuple(cap for cap in CAPABILITY_ORDER if cap in wanted)


@dataclass(frozen=True)
class MethodResult:
    """A method's raw value, its normalised value (same direction, in [0, 1]) and the numbers behind them."""

    value: Optional[float]
    normalized: Optional[float]
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MethodSpec:
    """One registry entry. token_value: the raw value from the token log-probabilities and entropies alone, for
    the generation methods that need nothing else. exact_requires: capabilities without which the value is an
    estimate (token entropies from a served model's top-k), bounded by value_bounds. on_by_default: whether the
    Sequence page selects it at first."""

    name: str
    label: str
    group: Group
    description: str
    paper: str
    higher_is: Literal["uncertain", "confident"]
    value_range: str
    normalization: str
    cost: str
    needs: tuple[str, ...]
    compute: Callable[[Evidence, Mapping[str, float]], MethodResult]
    parameters: tuple[Parameter, ...] = ()
    token_value: Optional[TokenValue] = None
    exact_requires: tuple[str, ...] = ()
    on_by_default: bool = True

    @property
    def requires(self) -> tuple[str, ...]:
        """The text-model capabilities this method needs on a generated answer (from its evidence)."""
        return capabilities_for(self.needs)

    def missing(self, capabilities: Iterable[str]) -> tuple[str, ...]:
        """The required capabilities a model with `capabilities` lacks (empty: it can run this method)."""
        have = set(capabilities)
        return tuple(cap for cap in self.requires if cap not in have)

    def info(self) -> MethodInfo:
        """The public view of this entry."""
        return MethodInfo(name=self.name, label=self.label, group=self.group, description=self.description,
                          paper=self.paper, higher_is=self.higher_is, value_range=self.value_range,
                          normalization=self.normalization, cost=self.cost, needs=list(self.needs),
                          parameters=[p.info() for p in self.parameters], requires=list(self.requires),
                          exact_requires=list(self.exact_requires), on_by_default=self.on_by_default)

    def check(self, given: Mapping[str, float]) -> dict[str, float]:
        """Every parameter's value as a float: the given ones checked against their ranges, defaults for the rest;
        UserInputError naming the parameter and its range, or the parameters the method has."""
        if not given:
            return {p.name: float(p.default) for p in self.parameters}
        return {name: float(value) for name, value in check_parameters(self.parameters, given, self.name).items()}


def value_bounds(spec: MethodSpec, evidence: Evidence, entropy_bounds: Sequence[Sequence[float]],
                 parameters: Mapping[str, float]) -> Optional[tuple[MethodResult, MethodResult]]:
    """The method run with every token entropy at its lower and at its upper bound ((T, 2) in nats, a served
    model's top-k bounds): valid bounds on its value and normalised value, because the entropy methods (the mean
    and the max, divided by ln V) never decrease when a token's entropy grows. None for a method that needs no
    exact entropies."""
    if not spec.exact_requires:
        return None
    ends = [replace(evidence, entropies=[float(b[side]) for b in entropy_bounds]) for side in (0, 1)]
    lower, upper = (run_method(spec, end, parameters) for end in ends)
    return lower, upper



def run_method(spec: MethodSpec, evidence: Evidence, parameters: Mapping[str, float]) -> MethodResult:
    """spec.compute with its parameters checked and defaults filled in; a value that cannot be computed (evidence
    that failed, a ValueError, or a value that is not finite) becomes None with the reason in details["error"]."""
    values = spec.check(parameters)
    failed = [evidence.failures[name] for name in spec.needs if name in evidence.failures] if evidence.failures else []
    if failed:
        return MethodResult(None, None, {"error": "; ".join(failed)})
    try:
        result = spec.compute(evidence, values)
    except ValueError as exc:
        return MethodResult(None, None, {"error": str(exc)})
    if result.value is not None and not math.isfinite(result.value):
        return MethodResult(None, None, {**result.details, "error": f"the value is not finite ({result.value})"})
    return result
