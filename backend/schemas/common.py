"""Shared pieces of the data contract: default model ids, model descriptions, scores."""
from __future__ import annotations

from typing import Literal, Optional, Union

from pydantic import BaseModel, Field, computed_field

DEFAULT_TEXT_MODEL = "smollm2-135m-instruct"
DEFAULT_IMAGE_MODEL = "efficientnet-lite0"
DEFAULT_EMBEDDING_MODEL = "minilm-l6"


class ParameterInfo(BaseModel):
    """A method setting the UI builds a control from: a number in [minimum, maximum] shown with `step`, or one of
    `choices` ({value: explanation})."""

    name: str
    label: str
    kind: Literal["int", "float", "choice"]
    default: Union[int, float, str]
    help: str
    minimum: Optional[float] = None
    maximum: Optional[float] = None
    step: Optional[float] = None
    choices: dict[str, str] = Field(default_factory=dict, description="value: explanation")

    @computed_field
    @property
    def description(self) -> str:
        """The help text under the name the sequence methods' JSON has always used."""
        return self.help


class MethodInfoBase(BaseModel):
    """What every method table says of an entry on the wire: names, what it does, the paper, its cost in passes,
    and the parameters its controls are built from."""

    name: str
    label: str
    description: str
    paper: str
    cost: str = Field(description="forward / backward passes, in words")
    parameters: list[ParameterInfo] = Field(default_factory=list)


class Score(BaseModel):
    """A sequence-level number with what a reader needs to interpret it."""

    name: str
    label: str
    value: float
    higher_is: Literal["uncertain", "confident"]
    value_range: str
    description: str


class ModelInfo(BaseModel):
    """A registry entry as the UI and the API see it."""

    id: str
    kind: Literal["text", "image", "embedding", "nli"]
    description: str
    source: str
    chat: bool = False
    default: bool = False
    engine: Literal["in-process", "vllm", "openai"] = Field(
        "in-process", description="where the model runs: in UQ Lens's process, or behind a serving engine")
    capabilities: list[str] = Field(default_factory=list, description=(
        "what it allows, among full_distribution, token_logprobs, score_given_answer, attention, gradients, "
        "hidden_states (a served model gives only the top-k log-probabilities)"))
