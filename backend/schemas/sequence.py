"""Sequence-level uncertainty: requests, the K sampled answers, meaning clusters and scores.

Log-probabilities and entropies in nats; probabilities in [0, 1]. Every score names its direction, its range and
how its normalised value was made, so a reader can interpret it without the paper at hand.
"""
from __future__ import annotations

from typing import Annotated, Any, Iterable, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

from backend.schemas.common import DEFAULT_EMBEDDING_MODEL, MethodInfoBase
from backend.schemas.text import MAX_PROMPT_CHARS, TextAnalysis, TextRequest

MIN_SAMPLES = 2
MAX_SAMPLES = 20
MAX_CLAIMS = 400  # claims a request may give (a 2,000-token answer has about 100)
DEFAULT_SAMPLES = 8
DEFAULT_SAMPLE_TEMPERATURE = 0.7
DEFAULT_SIMILARITY_THRESHOLD = 0.75  # of the claim rule's affinity: bench/bench_meaning_rule.py chose it
ALL_METHODS = "all"
CAPABILITY_NEEDS: dict[str, str] = {  # a text-model capability -> why a method lacking it cannot run, in words
    "full_distribution": "needs the full next-token distribution: pick a model loaded in UQ Lens's process",
    "token_logprobs": "needs the answer's token log-probabilities, which this model's server does not return",
    "score_given_answer": "needs the server to score a given answer (vLLM's prompt log-probabilities): generate the "
                          "answer instead, or serve the model with vLLM",
    "attention": "needs attention weights: pick a model loaded in UQ Lens's process",
    "gradients": "needs gradients: pick a model loaded in UQ Lens's process",
    "hidden_states": "needs hidden states: pick a model loaded in UQ Lens's process",
    "generate": "needs the model to answer new prompts (the question reworded); an imported log has no model to ask",
}


def why_not(requires: Iterable[str], capabilities: Iterable[str] = ()) -> str:
    """Why a method requiring these capabilities cannot run on a model with `capabilities`, in words
    (CAPABILITY_NEEDS of each one it lacks, joined by '; '), or '' when it lacks none."""
    have = set(capabilities)
    return "; ".join(CAPABILITY_NEEDS.get(cap, f"needs {cap}") for cap in requires if cap not in have)


class SequenceRequest(BaseModel):
    """One answer (generated or given, as on the Text page) plus the sequence methods to run on it."""

    model_config = ConfigDict(extra="forbid")

    text: TextRequest = Field(description="the answer to analyse: the same request the Text page sends")
    methods: list[str] = Field([ALL_METHODS], min_length=1, max_length=100,
                               description="method names (see the registry), or ['all']")
    samples: int = Field(DEFAULT_SAMPLES, ge=MIN_SAMPLES, le=MAX_SAMPLES,
                         description="K answers sampled in one batched generate call")
    sample_temperature: float = Field(DEFAULT_SAMPLE_TEMPERATURE, gt=0.0, le=10.0,
                                      description="softmax temperature for sampling the K answers and for their "
                                                  "log-probabilities")
    embedding_model: str = Field(DEFAULT_EMBEDDING_MODEL, min_length=1, max_length=200,
                                 description="sentence-embedding model for SAR and Semantic Volume")
    meaning_model: Optional[str] = Field(None, max_length=200,
                                         description="NLI or embedding model deciding which answers mean the same; "
                                                     "None = the first registered NLI model, else embedding_model")
    similarity_threshold: float = Field(DEFAULT_SIMILARITY_THRESHOLD, ge=0.0, le=1.0,
                                        description="affinity (the claim rule: 1 when one answer only adds words "
                                                    "to the other, else the cosine of what they add to the "
                                                    "question) at or above which an embedding model counts two "
                                                    "answers as the same meaning")
    method_parameters: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="{method name: {parameter: value}} overriding registry defaults")
    claims: Optional[list[Annotated[str, Field(max_length=MAX_PROMPT_CHARS)]]] = Field(
        None, min_length=1, max_length=MAX_CLAIMS, description=(
            "the answer's claims, each a piece of its text in order (a user-edited split) for ccp and luq; "
            "None = split the answer into sentences and the clauses of long sentences"))
    claim_spans: Optional[list[tuple[Annotated[int, Field(ge=0)], Annotated[int, Field(ge=0)]]]] = Field(
        None, min_length=1, max_length=MAX_CLAIMS, description=(
            "the answer's claims as [start, end) character spans of its text, in order and not overlapping "
            "(instead of claims)"))

    @field_validator("methods")
    @classmethod
    def _methods_named(cls, value: list[str]) -> list[str]:
        names = [name.strip() for name in value]
        if any(not name for name in names):
            raise ValueError("a method name is empty: give names such as semantic_entropy, or 'all'")
        return list(dict.fromkeys(names))


class MethodInfo(MethodInfoBase):
    """A registry entry as the UI sees it: enough to build a control and explain the method (cost: forward
    passes, in words)."""

    group: Literal["generation", "samples", "ask"]
    higher_is: Literal["uncertain", "confident"]
    value_range: str
    normalization: str
    needs: list[str] = Field(description="evidence the method is computed from (shared between methods)")
    requires: list[str] = Field(default_factory=list, description=(
        "text-model capabilities the method needs on a generated answer (ModelInfo.capabilities: "
        "full_distribution, token_logprobs, ...); a method whose requires a model lacks cannot run on it "
        "(CAPABILITY_NEEDS says why)"))
    exact_requires: list[str] = Field(default_factory=list, description=(
        "capabilities the value needs to be exact; on a model without them (a served model's top-k) it is an "
        "estimate, its details giving valid bounds (value_bounds)"))
    on_by_default: bool = Field(True, description=(
        "whether the Sequence page selects it at first (off for a method that costs several times the others)"))


class MethodCost(BaseModel):
    """What one piece of evidence costs, in passes and in seconds estimated from a pass timed on this model."""

    evidence: str
    label: str
    lm_passes: int = Field(description="language-model forward passes (a batched decoding step counts once)")
    lm_batch: int = Field(description="sequences per language-model pass")
    embedding_texts: int
    nli_pairs: int
    seconds: float = Field(description="estimate: passes x the seconds measured for one pass of each model")
    methods: list[str] = Field(description="the selected methods that need this evidence")


class SampledAnswer(BaseModel):
    """One of the K sampled answers, with its probability under the model at the sampling temperature."""

    index: int
    text: str
    ids: list[int]
    token_logprobs: list[float] = Field(description="log p of each sampled token (nats), end token included")
    logprob: float = Field(description="sum of token_logprobs: log p(answer | prompt)")
    stop_reason: Literal["eos", "max_new_tokens"]
    cluster: int = Field(-1, description="index of its meaning cluster; -1 when meaning was not needed")
    weight: float = Field(description="exp(mean token log-prob), normalised over the K samples")


class MeaningCluster(BaseModel):
    """Sampled answers that share one meaning."""

    id: int
    members: list[int] = Field(description="indices into samples")
    mass: float = Field(description="sum of the members' weights: p(meaning) as semantic entropy uses it")
    share: float = Field(description="members / K")


class MeaningSource(BaseModel):
    """Which model decided that two answers mean the same, and by which rule."""

    kind: Literal["nli", "embedding"]
    model: str
    threshold: Optional[float] = None
    rule: str


class TokenRelevance(BaseModel):
    """Shifting Attention to Relevance for one answer token (Duan et al. 2024)."""

    text: str
    logprob: float
    entropy: float = Field(description="entropy of the next-token distribution, nats")
    similarity_without: float = Field(description="cosine of (prompt + answer) and (prompt + answer without "
                                                  "this token) under the embedding model")
    relevance: float = Field(description="1 - similarity_without, clipped to [0, 1]; 0 for special tokens")
    weight: float = Field(description="relevance normalised to sum to 1 over the answer")


class SequenceScore(BaseModel):
    """One method's number with what a reader needs to interpret it and the intermediate values it came from."""

    name: str
    label: str
    value: Optional[float] = Field(description="raw value; None when the method could not give one (details say "
                                               "why)")
    normalized: Optional[float] = Field(description="value mapped to [0, 1], same direction; see normalization")
    higher_is: Literal["uncertain", "confident"]
    value_range: str
    normalization: str
    description: str = Field(description="one sentence on what the score measures")
    details: dict[str, Any]


class ClaimScore(BaseModel):
    """One claim of the analysed answer: its text, where it lies, and its scores."""

    text: str
    start: int = Field(description="character offset in text.generated_text where the claim starts")
    end: int = Field(description="character offset just past the claim (half-open)")
    token_start: int = Field(description="index in text.tokens of the claim's first token")
    token_end: int = Field(description="index just past the claim's last token (half-open)")
    scores: dict[str, Optional[float]] = Field(description=(
        "ccp (claim-conditioned probability, higher = more confident), luq_support (mean support by the K "
        "samples, higher = more confident), mean_token_entropy / max_token_entropy / mean_neg_logprob (nats, "
        "higher = more uncertain); a score the request did not ask for is absent"))
    supported_by: Optional[int] = Field(None, description="how many of the K samples support the claim (luq)")


class SequenceAnalysis(BaseModel):
    """Every selected sequence method on one answer, with the evidence it was computed from."""

    text: TextAnalysis = Field(description="the analysed answer, token by token, as on the Text page")
    methods: list[str]
    sample_temperature: float
    samples: list[SampledAnswer]
    meaning: Optional[MeaningSource]
    clusters: list[MeaningCluster]
    similarity: list[list[float]] = Field(description="K x K affinity between samples used by the graph scores")
    laplacian_eigenvalues: list[float] = Field(description="eigenvalues of I - D^-1/2 W D^-1/2, ascending")
    token_relevance: list[TokenRelevance] = Field(description="SAR weights on the analysed answer's tokens")
    scores: list[SequenceScore]
    seconds: dict[str, float] = Field(description="wall time of each stage, and 'total'")
    left_out: dict[str, str] = Field(default_factory=dict, description=(
        "methods that 'all' selected but the text model cannot run (e.g. mean_kurtosis on a served model), with "
        "why; a method named explicitly that the model cannot run is refused before anything runs"))
    sample_logprob_temperature: Optional[float] = Field(None, description=(
        "temperature of the distribution the samples' token_logprobs come from: the sample temperature "
        "in-process; 1.0 on vLLM (its default logprobs mode reports them before temperature); None when the server "
        "does not say, or no samples were drawn"))
    evidence_note: str = Field("", description="how the evidence was gathered where it differs from a model in "
                                               "UQ Lens's process (a served model: what the engine gave)")
    claims: list[ClaimScore] = Field(default_factory=list, description="the answer's claims and their scores, "
                                                                       "when ccp or luq was selected")
    claims_rule: str = Field("", description="how the claims were split and which model judged their meaning")
