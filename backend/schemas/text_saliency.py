"""Token saliency of an analysed text: which input tokens drive each answer token's probability, its contrast
with an alternative, or the model's uncertainty (entropy, nats) at that step."""
from __future__ import annotations

from typing import Literal, Optional, Union

from pydantic import BaseModel, Field, model_validator

from backend.schemas.common import MethodInfoBase
from backend.schemas.text import Alternative
from backend.schemas.text_attention import AnalysedIds, InputToken

MAX_EXPLAINED_TOKENS = 1024


class TextSaliencyRequest(AnalysedIds):
    """Explain some (or all) answer tokens of an analysed sequence with one registered method."""

    method: str = Field("input_x_gradient", min_length=1, max_length=50, description="a registered method")
    target: str = Field("logprob", min_length=1, max_length=50, description="a registered target")
    positions: Optional[list[int]] = Field(None, min_length=1, max_length=MAX_EXPLAINED_TOKENS,
                                           description="answer positions (indices in ids) to explain; None = all")
    alternative_id: Optional[int] = Field(None, ge=0, description="the alternative for 'alternative' / 'contrast' "
                                                                  "targets with one position; else each token's "
                                                                  "most likely other token")
    temperature: float = Field(1.0, gt=0.0, le=10.0, description="softmax temperature of the target's distribution")
    parameters: dict[str, Union[int, str]] = Field(default_factory=dict, description="method parameters by name")
    normalisation: Literal["max_abs", "l1", "none"] = "max_abs"
    memory_budget_mib: Optional[int] = Field(None, ge=16, le=1 << 20, description="memory the batched passes "
                                             "may hold, MiB (None: a quarter of the memory available, at most 1 "
                                             "GiB on CPU and 8 GiB on CUDA); smaller is slower")

    @model_validator(mode="after")
    def _positions_in_answer(self) -> "TextSaliencyRequest":
        if self.positions is not None:
            outside = [p for p in self.positions if not self.answer_start <= p < len(self.ids)]
            if outside:
                raise ValueError(f"positions {outside} are not answer tokens; pick positions from "
                                 f"{self.answer_start} to {len(self.ids) - 1}")
            if len(set(self.positions)) != len(self.positions):
                raise ValueError("each position may be explained once; remove the repeats")
        if self.alternative_id is not None and (self.positions is None or len(self.positions) != 1):
            raise ValueError("an alternative token can be named for one position only; give exactly one position, "
                             "or leave the alternative out to compare each token with its runner-up")
        return self


class SaliencyRow(BaseModel):
    """The scores of one explained answer token over the tokens before it."""

    position: int
    text: str
    target_value: Optional[float] = Field(None, description="the target at the real input (nats); None for methods "
                                                            "that use no target")
    baseline_value: Optional[float] = Field(None, description="the target at the baseline (methods with one)")
    alternative: Optional[Alternative] = None
    scores: list[float] = Field(description="one per input position 0..position-1, normalised as stated; shorter "
                                            "where the method scored fewer positions (occlusion of the prompt only: "
                                            "0..answer_start-1)")
    scale: float = Field(description="the divisor applied: raw score = score * scale")
    convergence_delta: Optional[float] = Field(None, description="integrated gradients: sum of raw scores minus "
                                                                 "(target at input - target at baseline)")


class TextSaliency(BaseModel):
    """Saliency rows of the explained answer tokens, with what they mean."""

    model: str
    method: str
    method_label: str
    signed: bool
    target: str = Field(description="the target explained, or 'none' for methods that do not use one")
    target_label: str
    target_higher_is: Optional[Literal["uncertain", "confident"]]
    temperature: float
    parameters: dict[str, Union[int, str]]
    normalisation: str
    normalisation_description: str
    answer_start: int
    tokens: list[InputToken]
    rows: list[SaliencyRow]
    forward_sequences: int = Field(description="sequences run forward")
    backward_passes: int = Field(description="vector-Jacobian products (one per explained token per path point)")
    memory_budget_mib: Optional[float] = Field(None, description="the memory budget the batches were sized to, MiB")
    seconds: float




class SaliencyMethodInfo(MethodInfoBase):
    """A registered saliency method as the UI and the API see it."""

    signed: bool
    uses_target: bool
    higher_is: str = Field(description="how to read a larger score")
    cost_grows_with_tokens: bool = Field(description="every explained token adds passes (split long requests to "
                                                     "show progress); otherwise all tokens share the same passes")


class SaliencyTargetInfo(BaseModel):
    """A registered target."""

    name: str
    label: str
    description: str
    unit: str
    higher_is: Literal["uncertain", "confident"]
    needs_alternative: bool


class SaliencyCatalog(BaseModel):
    """Everything the saliency controls are built from."""

    methods: list[SaliencyMethodInfo]
    targets: list[SaliencyTargetInfo]
    normalisations: dict[str, str]
