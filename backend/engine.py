"""The engine: loads registered models once, serialises work on each model, and runs the analyses."""
from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Optional

from backend.errors import ModelLoadError, UserInputError
from backend.models.device import pick_device
from backend.models.registry import ModelRegistry, build_registry
from backend.models.text_loader import LoadedTextModel, load_text_model
from backend.schemas import DEFAULT_TEXT_MODEL, ModelInfo, TextAnalysis, TextRequest
from backend.text_generation import analyze_text

log = logging.getLogger(__name__)
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_cache_dir() -> Path:
    """UQLENS_CACHE_DIR, else .cache/uqlens in the project folder."""
    return Path(os.environ.get("UQLENS_CACHE_DIR") or PROJECT_ROOT / ".cache" / "uqlens")


class Engine:
    """Holds loaded models (one copy each) with a lock per model; thread-safe."""

    def __init__(self, registry: Optional[ModelRegistry] = None, cache_dir: Optional[Path] = None,
                 device: Optional[str] = None) -> None:
        self.registry = registry or build_registry()
        self.cache_dir = cache_dir or default_cache_dir()
        self.device = device or pick_device()
        self._text_models: dict[str, LoadedTextModel] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._registry_lock = threading.Lock()

    def models(self) -> list[ModelInfo]:
        """Every registered model, defaults flagged."""
        defaults = {DEFAULT_TEXT_MODEL}
        return [self.registry.get(i).info(default=i in defaults) for i in self.registry.available()]

    def model_lock(self, model_id: str) -> threading.Lock:
        """The lock that serialises all work on one model (hooks and dropout mutate shared modules)."""
        with self._registry_lock:
            return self._locks.setdefault(model_id, threading.Lock())

    def text_model(self, model_id: str) -> LoadedTextModel:
        """The loaded text model for a registered id, loading it on first use."""
        spec = self.registry.get(model_id)
        if spec.kind != "text":
            raise UserInputError(f"{model_id!r} is a {spec.kind} model; pick a text model: "
                                 f"{', '.join(self.registry.available('text'))}")
        with self.model_lock(model_id):
            if model_id not in self._text_models:
                try:
                    self._text_models[model_id] = load_text_model(spec, self.cache_dir, self.device)
                except (OSError, ValueError, RuntimeError) as exc:
                    raise ModelLoadError(f"could not load model {model_id!r} from {spec.location}: {exc}") from exc
            return self._text_models[model_id]

    def analyze_text(self, request: TextRequest) -> TextAnalysis:
        """Token-level uncertainty of a generated or given answer (see backend.text_generation)."""
        lm = self.text_model(request.model)
        with self.model_lock(request.model):
            return analyze_text(lm, request)
