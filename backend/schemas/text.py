"""Text analyses: requests and per-token results. Probabilities in [0, 1], log-probabilities and entropies in nats."""
from __future__ import annotations

from typing import Annotated, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from backend.schemas.common import DEFAULT_TEXT_MODEL, Score

MAX_NEW_TOKENS = 1024
DEFAULT_MAX_NEW_TOKENS = 48  # the Text and Sequence pages' and the text command's answer length, so they agree
MAX_PROMPT_CHARS = 100_000
MAX_TOP_K = 20
MAX_PREFIX_IDS = 8_192  # the default model's context; a model's own context is checked when it runs


class TextRequest(BaseModel):
    """What to analyse: a prompt to continue, or (with `answer`) a given answer to score without generating."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    model: str = Field(DEFAULT_TEXT_MODEL, min_length=1, max_length=200, description="registered model id")
    prompt: str = Field(..., max_length=MAX_PROMPT_CHARS)
    answer: Optional[str] = Field(None, max_length=MAX_PROMPT_CHARS,
                                  description="score this text as the answer instead of generating one")
    chat_template: Optional[bool] = Field(None, description="wrap the prompt in the model's chat template; "
                                                             "None = on for chat models")
    max_new_tokens: int = Field(64, ge=1, le=MAX_NEW_TOKENS)
    do_sample: bool = Field(False, description="sample instead of greedy decoding")
    temperature: float = Field(1.0, gt=0.0, le=10.0, description="softmax temperature for sampling and for "
                                                                   "the reported probabilities")
    top_p: float = Field(1.0, gt=0.0, le=1.0, description="nucleus sampling mass (sampling only)")
    seed: int = Field(0, ge=0, le=2**32 - 1)
    top_k: int = Field(5, ge=1, le=MAX_TOP_K, description="alternatives reported per token")
    prefix: Optional[str] = Field(None, max_length=MAX_PROMPT_CHARS, description=(
        "text the answer must start with (its tokens are forced, then generation continues after it)"))
    prefix_ids: Optional[list[Annotated[int, Field(ge=0)]]] = Field(None, min_length=1, max_length=MAX_PREFIX_IDS, description=(
        "the exact token ids the answer must start with (a branch of an earlier answer: not re-tokenised); "
        "instead of prefix"))

    @field_validator("prompt")
    @classmethod
    def _prompt_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the prompt is empty: type a question or some text to continue")
        return value

    @field_validator("answer")
    @classmethod
    def _answer_not_blank(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not value.strip():
            raise ValueError("the answer to score is empty: give some text, or leave it out to generate one")
        return value

    @field_validator("prefix")
    @classmethod
    def _prefix_not_blank(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not value.strip():
            raise ValueError("the prefix is empty: give the text the answer must start with, or leave it out")
        return value

    @model_validator(mode="after")
    def _one_beginning(self) -> "TextRequest":
        given = [name for name in ("answer", "prefix", "prefix_ids") if getattr(self, name) is not None]
        if len(given) > 1:
            raise ValueError(f"give at most one of answer (score a whole answer), prefix (text to continue from) "
                             f"and prefix_ids (token ids to continue from); got {' and '.join(given)}")
        return self


class Alternative(BaseModel):
    """One of the most likely tokens at a step."""

    text: str
    id: Optional[int] = Field(description="None when a served model's server names the token only by its text")
    prob: float


class TokenScore(BaseModel):
    """Uncertainty of one token given everything before it."""

    position: int = Field(description="index in the full sequence (template + prompt + answer)")
    text: str
    id: Optional[int] = Field(description="None when a served model's server names the token only by its text")
    prob: float
    logprob: float
    entropy: float = Field(description="entropy of the next-token distribution, nats (for a served model the "
                                       "midpoint of entropy_bounds, an estimate unless they are equal)")
    rank: Optional[int] = Field(description="1 = the model's most likely token; None = beyond a served model's "
                                            "top-k (not known)")
    margin: float = Field(description="p(top-1) - p(top-2)")
    special: bool = Field(False, description="a special token such as end-of-turn")
    top_k: list[Alternative]
    forced: bool = Field(False, description="forced by the request's prefix (not chosen by the model)")
    entropy_bounds: Optional[list[float]] = Field(None, description=(
        "[lower, upper] nats, provably valid bounds on the entropy from a served model's top-k log-probabilities "
        "(unseen tokens each at most as likely as the k-th); None for an in-process model (entropy exact)"))


class TextAnalysis(BaseModel):
    """Token-level uncertainty of one answer, with the prompt tokens scored the same way."""

    model: str
    prompt: str
    model_input: str = Field(description="the exact text the model saw before the answer")
    chat_template: bool
    mode: Literal["generate", "score"]
    generated_text: str = Field(description="the answer, special tokens removed")
    stop_reason: Literal["eos", "max_new_tokens", "scored", "stopped"] = Field(description=(
        "eos: an end token; max_new_tokens: the length asked for; scored: a given answer; stopped: a live "
        "generation's reader asked it to end early (the tokens so far are analysed)"))
    temperature: float
    do_sample: bool
    top_p: float
    seed: int
    max_new_tokens: int
    device: str
    ids: list[int] = Field(description="every token id the model read: model input then answer")
    answer_start: int = Field(description="index in ids of the answer's first token")
    tokens: list[TokenScore] = Field(description="the answer's tokens")
    prompt_tokens: list[TokenScore] = Field(description="the input's tokens from the second on, teacher-forced")
    summaries: list[Score] = Field(description="sequence summaries of the answer's tokens")
    seconds: float = Field(description="wall time of the analysis")
    engine: Literal["in-process", "vllm", "openai"] = Field("in-process", description="where the model ran")
    exact: Optional[dict[str, bool]] = Field(None, description=(
        "for a served model, which numbers are exact (prob, logprob, rank, entropy, margin: true when exact for "
        "every answer token); None for an in-process model, where all are"))
    exactness_note: Optional[str] = Field(None, description="what is exact and what is estimated, in words")
