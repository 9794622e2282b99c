"""The data contract of imported logs (importable without torch: the HTTP client and the app read it).

An import reads a file of responses that carry log-probabilities and answers one ImportedGroup per prompt: the
first answer analysed token by token (a SequenceAnalysis whose .text is the TextAnalysis the heatmap draws), the
other answers to the same prompt as its samples, and, when the line gives a reference, a verdict.
"""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

from backend.imports.limits import DEFAULT_VOCAB_SIZE, MAX_IMPORT_BYTES
from backend.schemas.common import DEFAULT_EMBEDDING_MODEL
from backend.schemas.sequence import ALL_METHODS, DEFAULT_SIMILARITY_THRESHOLD, SequenceAnalysis
from backend.schemas.text import MAX_TOP_K

DEFAULT_IMPORT_METHODS = ["sequence_probability", "mean_token_probability", "geometric_mean_probability",
                          "mean_token_entropy", "max_token_entropy", "perplexity", "length_normalized_log_likelihood",
                          "predictive_entropy", "lexical_similarity"]  # need only the logged numbers: no model


class ImportRequest(BaseModel):
    """A log file's text and how to score it."""

    model_config = ConfigDict(extra="forbid")

    content: str = Field(..., max_length=MAX_IMPORT_BYTES, description=(
        "the file: one JSON response (OpenAI chat completion or vLLM / OpenAI completion, with logprobs), a JSON "
        "array of them, or JSONL (one a line, optionally with prompt / messages, reference and temperature)"))
    name: str = Field("log", max_length=300, description="the file's name, for the result")
    methods: list[str] = Field(default_factory=lambda: list(DEFAULT_IMPORT_METHODS), min_length=1, max_length=100,
                               description="sequence methods, or ['all'] (every one the logged numbers allow)")
    vocab_size: Optional[int] = Field(None, ge=2, le=10_000_000, description=(
        f"the model's vocabulary size V, for the entropy bounds and ln V normalisations; None = {DEFAULT_VOCAB_SIZE:,}"
        f" (at least any common model's, so the bounds stay valid, only looser)"))
    top_k: int = Field(5, ge=1, le=MAX_TOP_K, description="alternatives reported per token")
    embedding_model: str = Field(DEFAULT_EMBEDDING_MODEL, min_length=1, max_length=200)
    meaning_model: Optional[str] = Field(None, max_length=200)
    similarity_threshold: float = Field(DEFAULT_SIMILARITY_THRESHOLD, ge=0.0, le=1.0)
    method_parameters: dict[str, dict[str, float]] = Field(default_factory=dict)

    @field_validator("methods")
    @classmethod
    def _methods_named(cls, value: list[str]) -> list[str]:
        names = [name.strip() for name in value]
        if any(not name for name in names):
            raise ValueError(f"a method name is empty: give names such as perplexity, or {ALL_METHODS!r}")
        return list(dict.fromkeys(names))


class ImportedGroup(BaseModel):
    """The responses to one prompt: the first answer analysed, the rest as its samples."""

    prompt: Optional[str] = Field(description="the prompt the lines give; None when the log has none")
    reference: Optional[str] = Field(description="the accepted answer the first line of the group gives")
    sources: list[str] = Field(description="where each answer is in the file ('line 3, choices[0]'), the analysed "
                                           "one first")
    format: Literal["chat", "completion"]
    analysis: SequenceAnalysis
    correct: Optional[bool] = Field(None, description="the analysed answer graded against the reference (claim "
                                                      "match, backend.audit.grading); None without a reference")
    grading_reason: str = ""


class MethodAudit(BaseModel):
    """How well one method's score separated the right answers from the wrong ones over the graded groups."""

    name: str
    label: str
    higher_is: Literal["uncertain", "confident"]
    auroc: Optional[float] = Field(description="AUROC of the score detecting a wrong answer (0.5 = chance); None "
                                               "when every graded answer is right, or every one wrong")
    scored: int = Field(description="graded groups where the method gave a value")


class ImportAudit(BaseModel):
    """The graded groups: accuracy and each method's error-detection AUROC."""

    graded: int
    correct: int
    accuracy: float
    methods: list[MethodAudit]


class ImportResult(BaseModel):
    """Every group of an imported file, with what the numbers are."""

    name: str
    responses: int
    vocab_size: int
    vocab_size_given: bool
    groups: list[ImportedGroup]
    audit: Optional[ImportAudit] = Field(None, description="None when no line gives a reference")
    note: str = Field(description="where the numbers come from and what is exact, in words")
    seconds: float
