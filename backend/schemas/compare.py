"""Side by side: two models (or one model at two settings) on the same prompt, each scoring the other's answer.
Log-probabilities in nats."""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator

from backend.schemas.text import TextAnalysis, TextRequest


class TextComparisonRequest(BaseModel):
    """Two text requests on the same prompt: two models, two temperatures, with and without the chat template..."""

    model_config = ConfigDict(extra="forbid")

    first: TextRequest = Field(description="side A: its model and settings")
    second: TextRequest = Field(description="side B: its model and settings (the same prompt)")

    @model_validator(mode="after")
    def _same_prompt(self) -> "TextComparisonRequest":
        if self.first.prompt != self.second.prompt:
            raise ValueError("both sides must answer the same prompt: give first.prompt and second.prompt the same "
                             "text")
        return self


class TokenDifference(BaseModel):
    """One token of a side's answer, with what the other side's model gave the same characters."""

    index: int = Field(description="index into the side's answer tokens")
    text: str
    start: int = Field(description="first character of the token in the answer text (special tokens: where they "
                                   "stand, zero width)")
    end: int = Field(description="one past its last character")
    own_logprob: float = Field(description="log p of the token under its own side's model and settings")
    other_logprob: Optional[float] = Field(description="sum of the other model's log p of its tokens that start "
                                                       "within these characters; None when none does (special "
                                                       "tokens, which the answer text leaves out)")
    difference: Optional[float] = Field(description="own_logprob - other_logprob: above 0, the other model is less "
                                                    "sure of these characters")
    other_tokens: int = Field(description="how many of the other model's tokens other_logprob sums")


class ComparedSide(BaseModel):
    """One side: its own analysis, its answer scored by the other side, and the per-token differences."""

    analysis: TextAnalysis
    scored_by_other: Optional[TextAnalysis] = Field(description="the other side's model and settings scoring this "
                                                                "answer; None when the answer has no text to score")
    alignment: Literal["tokens", "characters", "none"] = Field(description=(
        "tokens: both models split the answer into the same tokens, compared one to one; characters: other "
        "tokenizers, the other model's tokens summed over each token's characters; none: nothing to compare"))
    differences: list[TokenDifference]
    own_logprob: float = Field(description="log p of the answer's text tokens under its own side")
    other_logprob: Optional[float] = Field(description="log p of the same text under the other side")


class TextComparison(BaseModel):
    """Both sides of a comparison."""

    first: ComparedSide
    second: ComparedSide
    seconds: float = Field(description="wall time of the four analyses")
