"""The methods that apply to one loaded image classifier: what GET /v1/image/methods answers."""
from __future__ import annotations

from typing import TYPE_CHECKING

from backend.image.methods import works_on
from backend.image.saliency import SALIENCY_METHODS
from backend.image.uncertainty import UNCERTAINTY_METHODS
from backend.schemas.image import ImageMethods

if TYPE_CHECKING:
    from backend.models.image_loader import LoadedImageModel


def image_methods(lm: LoadedImageModel) -> ImageMethods:
    """The uncertainty and saliency methods the model's network family runs (see works_on), with their
    parameters, and the model's class names."""
    return ImageMethods(
        model=lm.spec.id, family=lm.family, class_names=lm.class_names,
        uncertainty=[m.info() for m in UNCERTAINTY_METHODS.entries(works_on(lm.family))],
        saliency=[m.info() for m in SALIENCY_METHODS.entries(works_on(lm.family))])
