"""One-time preparation of the default models in the cache folder (run by `make setup`, safe to re-run)."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator, Optional

from backend.audit.digits import prepare_digits
from backend.models.pool import default_cache_dir
from backend.models.registry import ModelRegistry, build_registry, resolve_location
from backend.models.text_loader import prepare_text_model


def prepare_defaults(registry: Optional[ModelRegistry] = None, cache_dir: Optional[Path] = None) -> Iterator[str]:
    """Convert GGUF text models to safetensors once and check every packaged weight file is present.

    Trains the small digits classifier used by audits (seeded, a few seconds) and caches its weights.
    Yields one progress line per model. Raises FileNotFoundError naming a missing package.
    """
    registry = registry or build_registry()
    cache_dir = cache_dir or default_cache_dir()
    for model_id in registry.available():
        spec = registry.get(model_id)
        if spec.kind == "text":
            yield f"{model_id}: ready at {prepare_text_model(spec, cache_dir)}"
        else:
            location = Path(resolve_location(spec.location))
            if not location.exists():
                raise FileNotFoundError(f"{model_id}: weights missing at {location}; reinstall its package")
            yield f"{model_id}: weights present at {location}"
    yield f"digits classifier (audits): ready at {prepare_digits(cache_dir)}"
