"""Attention maps of an analysed text: requests and results. Attention weights lie in [0, 1]; rows sum to 1.

A request names the exact ids of a TextAnalysis (`ids`, `answer_start`), so the maps describe the analysed
sequence. Results carry only what a view needs: rows for the answer tokens, one windowed matrix, and pooled
thumbnails of every head, never layers x heads x T x T numbers.
"""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator

from backend.schemas.common import DEFAULT_TEXT_MODEL

MAX_SEQUENCE_TOKENS = 8192
MAX_WINDOW = 256
MAX_THUMBNAIL = 32
MAX_EVERY_MAP_VALUES = 2_000_000
MATRIX_DECIMALS = 4  # matrix windows as drawn (the figure's hover shows 4 decimals)
TokenKind = Literal["template", "prompt", "answer"]


def map_count(n_layers: int, n_heads: int) -> int:
    """Maps in every_map: each head, each layer's head mean, the all-layer mean and the rollout."""
    return n_layers * n_heads + n_layers + 2


def every_map_values(n_layers: int, n_heads: int, units: int) -> int:
    """Numbers every_map sends for a window of `units` per side: each map's rows up to the diagonal."""
    return map_count(n_layers, n_heads) * units * (units + 1) // 2


class AnalysedIds(BaseModel):
    """The token ids of an analysed text: model input then answer."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(DEFAULT_TEXT_MODEL, min_length=1, max_length=200, description="registered model id")
    ids: list[int] = Field(..., min_length=2, max_length=MAX_SEQUENCE_TOKENS,
                           description="every token id: model input then answer (TextAnalysis.ids)")
    answer_start: int = Field(..., ge=1, description="index in ids of the answer's first token")

    @model_validator(mode="after")
    def _answer_inside(self) -> "AnalysedIds":
        if self.answer_start >= len(self.ids):
            raise ValueError(f"answer_start {self.answer_start} must be below the number of ids ({len(self.ids)}): "
                             f"there is no answer to explain")
        if any(i < 0 for i in self.ids):
            raise ValueError("token ids cannot be negative")
        return self


class AttentionViewRequest(BaseModel):
    """Which map to show and how much of it."""

    model_config = ConfigDict(extra="forbid")

    aggregation: Literal["head", "head_mean", "layer_mean", "rollout"] = "head_mean"
    layer: Optional[int] = Field(None, ge=0, description="0-based; None = the last layer")
    head: int = Field(0, ge=0, description="0-based head (aggregation 'head' only)")
    granularity: Literal["token", "word"] = "token"
    window_start: Optional[int] = Field(None, ge=0, description="first token (or word) of the matrix window; "
                                                                "None = the last full window; clamped to the end")
    window_size: int = Field(128, ge=2, le=MAX_WINDOW, description="tokens (or words) per side of the matrix")
    thumbnail: int = Field(16, ge=4, le=MAX_THUMBNAIL, description="cells per side of each head's thumbnail")
    every_map_position: Optional[int] = Field(
        None, ge=1, description="a token position: also return every map's window and the producing row of this "
                                "position (a view that switches maps in the browser); refused past "
                                f"{MAX_EVERY_MAP_VALUES:,} window values")


class TextAttentionRequest(AnalysedIds):
    """Attention of an analysed text: the answer rows always, and one view when `view` is given."""

    view: Optional[AttentionViewRequest] = None


class InputToken(BaseModel):
    """One position of the analysed sequence."""

    position: int
    text: str
    id: int
    special: bool
    kind: TokenKind = Field(description="template: chat scaffold; prompt: the user's text; answer: generated")
    word: int = Field(description="index of the word this token belongs to")


class AttentionMatrix(BaseModel):
    """A square window of one map: rows are queries, columns keys (causal: zero above the diagonal)."""

    granularity: Literal["token", "word"]
    start: int = Field(description="first token or word of the window")
    labels: list[str]
    positions: list[int] = Field(description="first token position of each row / column")
    values: list[list[float]]
    normalisation: str


class HeadGrid(BaseModel):
    """Every head's map over the same window, average-pooled to thumbnails: values[layer][head] is (s, s)."""

    size: int
    values: list[list[list[list[float]]]]
    pooling: str


class MapWindow(BaseModel):
    """One map of every_map: its window's causal part and one position's producing row."""

    aggregation: str
    layer: int = Field(description="0-based; the last layer for the all-layer maps")
    head: int = Field(description="0-based; 0 where the map has no single head")
    label: str
    lower: list[list[float]] = Field(description="the window's rows up to the diagonal (row i: i + 1 values, "
                                                 "keys from the window's start), weights rounded to MATRIX_DECIMALS")
    row: list[float] = Field(description="the producing row of every_map_position over positions 0..p-1")


class EveryMap(BaseModel):
    """Every map of the sequence over the view's window: each head, each layer's head mean, the all-layer mean
    and the rollout, in that order (heads layer by layer)."""

    position: int
    maps: list[MapWindow]


class AttentionView(BaseModel):
    """One chosen map: its answer rows, its matrix window and every head's thumbnail."""

    aggregation: str
    layer: int
    head: int
    label: str
    description: str
    answer_rows: list[list[float]] = Field(description="per answer token at position p: the row of query p - 1 "
                                                       "(the step that produced it) over positions 0..p-1")
    matrix: AttentionMatrix
    grid: HeadGrid
    every_map: Optional[EveryMap] = None


class TextAttention(BaseModel):
    """Attention of one analysed sequence."""

    model: str
    n_layers: int
    n_heads: int
    answer_start: int
    tokens: list[InputToken]
    rows: str = Field(description="what the answer rows are")
    rollout: list[list[float]] = Field(description="per answer token: attention rollout row of the producing step")
    last_layer_head_mean: list[list[float]] = Field(description="per answer token: the last layer's head-mean row "
                                                                "of the producing step")
    view: Optional[AttentionView] = None
    seconds: float
