"""The model pool: every registered model loaded once, the lock that serialises work on each, and what each
model keeps between requests (its last attention forward, its timed passes).

Captum hooks and MC dropout mutate a shared model, so all work on one model holds its lock; work on several
models takes their locks in id order (two requests never wait on each other in a cycle). Loading happens under
the model's lock too, so two first requests load it once. A served model (a client of its engine, no weights
here) takes no lock for work: its engine batches concurrent requests, which is what it is for.
"""
from __future__ import annotations

import os
import threading
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional

from backend.errors import ModelLoadError, UserInputError
from backend.models.device import pick_device
from backend.models.embedding_loader import LoadedEmbeddingModel, load_embedding_model
from backend.models.image_loader import LoadedImageModel, load_image_model
from backend.models.kept import KeptForward
from backend.models.nli_loader import LoadedNliModel, load_nli_model
from backend.models.registry import Kind, ModelRegistry, ModelSpec, build_registry
from backend.models.text_loader import LoadedTextModel, load_text_model
from backend.served.model import ServedTextModel, load_served_text_model

PROJECT_ROOT = Path(__file__).resolve().parents[2]
Load = Callable[[ModelSpec, Path, str], Any]  # (spec, cache folder, device) -> the loaded model


def load_text_or_served(spec: ModelSpec, cache_dir: Path, device: str) -> LoadedTextModel | ServedTextModel:
    """A text model: loaded into the process, or (loader "openai") the client of the engine that serves it."""
    if spec.served is not None:
        return load_served_text_model(spec)
    return load_text_model(spec, cache_dir, device)


LOADERS: dict[str, Load] = {
    "text": load_text_or_served,
    "image": lambda spec, _cache_dir, device: load_image_model(spec, device),
    "embedding": lambda spec, _cache_dir, device: load_embedding_model(spec, device),
    "nli": lambda spec, _cache_dir, device: load_nli_model(spec, device),
}
LOAD_ERRORS = (OSError, ValueError, RuntimeError)  # what a loader raises for weights it cannot read


def default_cache_dir() -> Path:
    """UQLENS_CACHE_DIR, else .cache/uqlens in the project folder."""
    return Path(os.environ.get("UQLENS_CACHE_DIR") or PROJECT_ROOT / ".cache" / "uqlens")


@dataclass
class Slot:
    """One model id's place in the pool: its lock, the loaded model once loaded, and its timed passes."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    loaded: Any = None
    pass_seconds: dict[int, float] = field(default_factory=dict)


class ModelPool:
    """Loaded models by registered id (one copy each), a lock per model and per-model caches; thread-safe."""

    def __init__(self, registry: Optional[ModelRegistry] = None, cache_dir: Optional[Path] = None,
                 device: Optional[str] = None) -> None:
        self.registry = registry or build_registry()
        self.cache_dir = cache_dir or default_cache_dir()
        self.device = device or pick_device()
        self._slots: dict[str, Slot] = {}
        self._slots_lock = threading.Lock()

    def _slot(self, model_id: str) -> Slot:
        """The slot of a model id, made on first use (ids are checked against the registry by the callers that
        load; a lock may be asked for any id)."""
        with self._slots_lock:
            return self._slots.setdefault(model_id, Slot())

    def spec(self, model_id: str, kind: Kind) -> ModelSpec:
        """The registry entry of a model of this kind; UnknownModelError for an unknown id, UserInputError naming
        the models of the kind for one of another kind."""
        spec = self.registry.get(model_id)
        if spec.kind != kind:
            raise UserInputError(f"{model_id!r} is a {spec.kind} model; pick a{'n' if kind[0] in 'aein' else ''} "
                                 f"{kind} model: {', '.join(self.registry.available(kind)) or 'none is registered'}")
        return spec

    def load(self, kind: Kind, model_id: str) -> Any:
        """The loaded model of `kind` for a registered id, loaded on first use (under its lock) and kept;
        ModelLoadError naming the model and its location when its weights cannot be read. A loaded model is
        answered without waiting for its lock (so a caller that holds it may ask again)."""
        spec = self.spec(model_id, kind)
        slot = self._slot(model_id)
        if slot.loaded is not None:
            return slot.loaded
        with slot.lock:
            if slot.loaded is None:
                try:
                    slot.loaded = LOADERS[kind](spec, self.cache_dir, self.device)
                except LOAD_ERRORS as exc:
                    raise ModelLoadError(f"could not load model {model_id!r} from {spec.location}: {exc}") from exc
            return slot.loaded

    def text(self, model_id: str) -> LoadedTextModel | ServedTextModel:
        """The loaded causal LM of a registered text model id (a ServedTextModel, the client of its engine, for a
        served one: its in-process parts raise the UserInputError saying they need a model in the process)."""
        return self.load("text", model_id)

    def image(self, model_id: str) -> LoadedImageModel:
        """The loaded image classifier of a registered image model id."""
        return self.load("image", model_id)

    def embedding(self, model_id: str) -> LoadedEmbeddingModel:
        """The loaded sentence encoder of a registered embedding model id."""
        return self.load("embedding", model_id)

    def nli(self, model_id: str) -> LoadedNliModel:
        """The loaded NLI classifier of a registered NLI model id."""
        return self.load("nli", model_id)

    def loaded_ids(self) -> list[str]:
        """Ids of the models loaded so far, sorted."""
        with self._slots_lock:
            return sorted(model_id for model_id, slot in self._slots.items() if slot.loaded is not None)

    def lock(self, model_id: str) -> threading.Lock:
        """The lock that serialises all work on one model (hooks and dropout mutate shared modules)."""
        return self._slot(model_id).lock

    def is_served(self, model_id: str) -> bool:
        """Whether a registered id is a served model (an unregistered id is not)."""
        return model_id in self.registry and self.registry.get(model_id).served is not None

    def hold(self, model_ids: Iterable[str]) -> ExitStack:
        """The locks of these models (each once, served models none), taken in id order; released when the stack
        closes."""
        stack = ExitStack()
        for model_id in sorted(set(model_ids)):
            if not self.is_served(model_id):
                stack.enter_context(self.lock(model_id))
        return stack

    @contextmanager
    def using(self, kind: Kind, model_id: str) -> Iterator[Any]:
        """The loaded model of `kind`, with its lock held for the block (none for a served model)."""
        loaded = self.load(kind, model_id)
        with self.hold([model_id]):
            yield loaded

    def kept_attention(self, model_id: str) -> KeptForward:
        """The attention forward a loaded text model keeps for the last sequence it ran."""
        return self.text(model_id).kept_attention

    def timed(self, model_id: str, batch: int, measure: Callable[[], float]) -> float:
        """Seconds per pass of a model at a batch size: measure() run once under the model's lock, then kept (a
        kept value is answered without waiting for the lock)."""
        slot = self._slot(model_id)
        if batch not in slot.pass_seconds:
            with slot.lock:
                if batch not in slot.pass_seconds:
                    slot.pass_seconds[batch] = measure()
        return slot.pass_seconds[batch]

    def pass_seconds(self, model_id: str) -> dict[int, float]:
        """The seconds per pass measured so far for one model, by batch size."""
        return dict(self._slot(model_id).pass_seconds)

    def clear_caches(self) -> None:
        """Let every kept tensor go (after the GPU ran out of memory); the models themselves stay loaded."""
        with self._slots_lock:
            loaded = [slot.loaded for slot in self._slots.values()]
        for model in loaded:
            if isinstance(model, LoadedTextModel):
                model.kept_attention.clear()
