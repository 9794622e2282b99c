"""What the Attention & saliency and Image pages keep when a result is saved (SaveRequest.payload), so the Saved
page can draw it again exactly as it was, without the model. Text, Sequence and audit results are saved as their
own schema (TextAnalysis, SequenceAnalysis, AuditResult)."""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, Field

from backend.schemas.image import ImageAnalysis, ImageUncertainty, SaliencyAnalysis
from backend.schemas.text import TextAnalysis
from backend.schemas.text_attention import TextAttention
from backend.schemas.text_saliency import TextSaliency


class SavedAttention(BaseModel):
    """One view of the Attention & saliency page: the analysed answer, the explained token, the attention view
    and the saliency result shown for it (None where that tab was not computed)."""

    analysis: TextAnalysis
    selected: int = Field(ge=0, description="index in analysis.tokens of the explained answer token")
    granularity: Literal["token", "word"] = "token"
    show_template: bool = False
    attention: Optional[TextAttention] = None
    saliency: Optional[TextSaliency] = None


class SavedImage(BaseModel):
    """One view of the Image page: the prediction, the temperature its probabilities were drawn at, and the
    MC dropout / test-time augmentation and saliency results shown (empty where they were not run)."""

    analysis: ImageAnalysis
    temperature: float = Field(1.0, gt=0.0, description="divides the logits before the softmax of the top classes")
    uncertainty: list[ImageUncertainty] = Field(default_factory=list)
    saliency: list[SaliencyAnalysis] = Field(default_factory=list)
