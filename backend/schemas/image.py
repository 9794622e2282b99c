"""Image analyses: the image to read, classifier predictions, epistemic vs. aleatoric spread, saliency maps.

Probabilities in [0, 1]; entropies and mutual information in nats. Image bytes travel as base64 in JSON.
"""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from backend.schemas.common import DEFAULT_IMAGE_MODEL, MethodInfoBase

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
MAX_CLASS_TOP_K = 20
MAX_PASSES = 64
MAX_SALIENCY_METHODS = 7
SAMPLE_NAMES = ("cat", "coffee", "astronaut", "rocket")
SampleName = Literal["cat", "coffee", "astronaut", "rocket"]
BYTES_AS_BASE64 = ConfigDict(extra="forbid", ser_json_bytes="base64", val_json_bytes="base64")


class ImageInput(BaseModel):
    """One image: a bundled sample photo by name, or the bytes of an uploaded PNG, JPEG or WebP file."""

    model_config = BYTES_AS_BASE64

    sample: Optional[SampleName] = Field(None, description="a bundled scikit-image photo")
    data: Optional[bytes] = Field(None, description="the uploaded file's bytes; the type is read from the content")
    filename: str = Field("", max_length=255, description="shown to the user only; never used to decide the type")

    @field_validator("data")
    @classmethod
    def _data_size(cls, value: Optional[bytes]) -> Optional[bytes]:
        if value is not None and not value:
            raise ValueError("the uploaded file is empty: choose a PNG, JPEG or WebP image")
        if value is not None and len(value) > MAX_UPLOAD_BYTES:
            raise ValueError(f"the file is {len(value) / 2**20:.1f} MiB; upload at most "
                             f"{MAX_UPLOAD_BYTES // 2**20} MiB (save it smaller or as JPEG)")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> ImageInput:
        if (self.sample is None) == (self.data is None):
            raise ValueError("give exactly one image: a sample name or an uploaded file")
        return self


class ImageRequest(BaseModel):
    """Classify one image and report how sure the model is."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(DEFAULT_IMAGE_MODEL, min_length=1, max_length=200, description="registered image model id")
    image: ImageInput
    top_k: int = Field(5, ge=1, le=MAX_CLASS_TOP_K, description="classes reported")
    temperature: float = Field(1.0, gt=0.0, le=10.0, description="divides the logits before the softmax")


class ClassScore(BaseModel):
    """One class with its probability."""

    label: str
    index: int
    prob: float


class ImageInfo(BaseModel):
    """What was read, and every conversion applied on the way to an RGB image."""

    width: int
    height: int
    format: str = Field(description="PNG, JPEG or WEBP from the file's content, or 'sample'")
    mode: str = Field(description="the decoded pixel mode before conversion, e.g. RGB, RGBA, CMYK, I;16")
    name: str = Field(description="the sample's name or the uploaded file's name")
    notes: list[str] = Field(default_factory=list, description="conversions applied, in plain words")


class ImageAnalysis(BaseModel):
    """The classifier's prediction for one image, at one temperature."""

    model_config = BYTES_AS_BASE64

    model: str
    device: str
    image: ImageInfo
    preprocessing: str = Field(description="how the image became the model's input, in plain words")
    model_input_png: bytes = Field(description="the square crop the model saw, as PNG")
    temperature: float
    logits: list[float] = Field(description="raw logits of every class, so probabilities can be redrawn")
    top_k: list[ClassScore]
    entropy: float = Field(description="entropy of the class distribution, nats, in [0, ln C]")
    max_entropy: float = Field(description="ln C: the entropy of a uniform guess")
    margin: float = Field(description="p(top-1) - p(top-2)")
    seconds: float




class ImageMethodInfo(MethodInfoBase):
    """A registered uncertainty or saliency method as the UI and the API see it (cost: passes per image)."""

    higher_is: Literal["uncertain", "confident", "relevant"]
    signed: bool = Field(False, description="saliency: values can be negative (evidence against the target)")
    needs: Literal["any", "cnn", "vit"] = Field("any", description="the kind of network the method works on")


class ImageMethods(BaseModel):
    """What one image model offers: its classes, and the methods that apply to its kind of network."""

    model: str
    family: Literal["cnn", "vit", "other"]
    class_names: list[str] = Field(description="label of every class, by index")
    uncertainty: list[ImageMethodInfo]
    saliency: list[ImageMethodInfo]


class UncertaintyRequest(BaseModel):
    """Run K stochastic passes of one method (MC dropout or test-time augmentation) over one image."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(DEFAULT_IMAGE_MODEL, min_length=1, max_length=200)
    image: ImageInput
    method: str = Field(..., min_length=1, max_length=50, description="a registered uncertainty method")
    passes: int = Field(16, ge=2, le=MAX_PASSES, description="K stochastic passes, run as batches")
    seed: int = Field(0, ge=0, le=2**32 - 1)
    top_k: int = Field(5, ge=1, le=10, description="classes whose spread is reported")
    temperature: float = Field(1.0, gt=0.0, le=10.0, description="divides each pass's logits before the softmax")


class ClassSpread(BaseModel):
    """One class's probability across the K passes."""

    label: str
    index: int
    mean: float
    std: float = Field(description="population standard deviation over passes")
    per_pass: list[float]


class ImageUncertainty(BaseModel):
    """Mean prediction over K passes and its split into expected entropy and mutual information (nats)."""

    model: str
    device: str
    method: str
    label: str
    passes: int
    seed: int
    stochastic_part: str = Field(description="what varies between passes, in plain words")
    pass_labels: list[str] = Field(description="one short description per pass")
    predictive_entropy: float = Field(description="H[mean p]: total uncertainty, nats")
    expected_entropy: float = Field(description="mean of H[p_k]: the part no single pass resolves, nats")
    mutual_information: float = Field(description="H[mean p] - mean H[p_k] >= 0: disagreement between passes")
    max_entropy: float = Field(description="ln C")
    agreement: float = Field(description="share of passes whose top class is the mean prediction's top class")
    mean_top_k: list[ClassScore]
    classes: list[ClassSpread] = Field(description="the mean prediction's top classes, spread per pass")
    temperature: float = Field(1.0, description="the temperature every pass's softmax used")
    seconds: float


class SaliencyRequest(BaseModel):
    """Explain one target (top class, a chosen class, or the predictive entropy) with several methods."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(DEFAULT_IMAGE_MODEL, min_length=1, max_length=200)
    image: ImageInput
    methods: list[str] = Field(..., min_length=1, max_length=MAX_SALIENCY_METHODS)
    target: Literal["top", "class", "entropy"] = "top"
    class_index: Optional[int] = Field(None, ge=0, description="the class to explain when target is 'class'")
    params: dict[str, dict[str, float]] = Field(default_factory=dict,
                                                description="per-method parameter values; others use defaults")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="for methods that draw noise (SmoothGrad)")
    temperature: float = Field(1.0, gt=0.0, le=10.0, description="softmax temperature of the entropy target and of "
                                                                 "the reported probability; a class's logit does "
                                                                 "not depend on it")

    @field_validator("methods")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("each saliency method may be asked for once")
        return value

    @model_validator(mode="after")
    def _class_given(self) -> SaliencyRequest:
        if self.target == "class" and self.class_index is None:
            raise ValueError("target 'class' needs a class_index: pick the class to explain")
        return self


class SaliencySummary(BaseModel):
    """A few numbers that describe a map without drawing it."""

    minimum: float
    maximum: float
    mean: float
    top10_share: float = Field(description="share of the total |value| held by the 10% strongest pixels")
    peak_row: int
    peak_col: int


class SaliencyMap(BaseModel):
    """One method's map over the model's input crop (rows x cols, same size as model_input_png)."""

    method: str
    label: str
    shape: tuple[int, int]
    values: list[list[float]]
    signed: bool
    summary: SaliencySummary
    convergence_delta: Optional[float] = Field(None, description="integrated gradients: sum of attributions "
                                                                 "minus (f(input) - f(baseline))")
    params: dict[str, float]
    passes: int = Field(description="forward passes the method used")
    seconds: float


class SaliencyAnalysis(BaseModel):
    """Saliency maps of one target, side by side."""

    model_config = BYTES_AS_BASE64

    model: str
    device: str
    target: Literal["top", "class", "entropy"]
    target_index: Optional[int] = Field(description="the explained class; None when the entropy is explained")
    target_label: str
    target_value: float = Field(description="the class probability, or the entropy in nats")
    temperature: float = Field(1.0, description="the temperature of target_value and of the entropy target")
    model_input_png: bytes
    maps: list[SaliencyMap]
    seconds: float
