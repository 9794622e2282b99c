"""Live generation over HTTP: the stop request of a stream (POST /v1/text/stream/stop) and its answer."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

MAX_STREAM_ID_CHARS = 64


class StreamStop(BaseModel):
    """End one live generation early, keeping the tokens generated so far."""

    model_config = ConfigDict(extra="forbid")

    stream_id: str = Field(min_length=1, max_length=MAX_STREAM_ID_CHARS,
                           description="the stream_id of the stream's first event (\"started\")")


class StreamStopped(BaseModel):
    """The stream was asked to stop; its last event is the analysis of the tokens generated so far."""

    stream_id: str
    stopping: bool
