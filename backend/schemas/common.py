"""Shared pieces of the data contract: default model ids, model descriptions, scores."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

DEFAULT_TEXT_MODEL = "smollm2-135m-instruct"
DEFAULT_IMAGE_MODEL = "efficientnet-lite0"
DEFAULT_EMBEDDING_MODEL = "minilm-l6"


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
