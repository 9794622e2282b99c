"""The model registry: register / get / available, parsing from the environment and files, package paths."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from backend.errors import UserInputError
from backend.models.registry import (
    DEFAULT_SPECS,
    ModelRegistry,
    ModelSpec,
    UnknownModelError,
    build_registry,
    infer_text_loader,
    parse_models_file,
    parse_text_models_env,
    resolve_location,
)
from backend.registry import UnknownNameError
from backend.schemas import DEFAULT_EMBEDDING_MODEL, DEFAULT_IMAGE_MODEL, DEFAULT_TEXT_MODEL


def text_spec(model_id: str = "my-lm", location: str = "/models/lm") -> ModelSpec:
    return ModelSpec(model_id, "text", "hf", location, "a test model", chat=True)


def test_register_then_get_returns_the_spec():
    registry = ModelRegistry()
    spec = text_spec()
    registry.register(spec)
    assert registry.get("my-lm") is spec


def test_available_lists_ids_in_registration_order_and_filters_by_kind():
    registry = ModelRegistry()
    registry.register(text_spec("b-lm"))
    registry.register(ModelSpec("img", "image", "timm-lukemelas", "/x.pth", "an image model"))
    registry.register(text_spec("a-lm"))
    assert registry.available() == ["b-lm", "img", "a-lm"]
    assert registry.available("text") == ["b-lm", "a-lm"]
    assert registry.available("image") == ["img"]
    assert registry.available("embedding") == []


def test_registering_an_existing_id_needs_overwrite():
    registry = ModelRegistry()
    registry.register(text_spec(location="/first"))
    with pytest.raises(ValueError, match="already registered"):
        registry.register(text_spec(location="/second"))
    assert registry.get("my-lm").location == "/first"
    registry.register(text_spec(location="/second"), overwrite=True)
    assert registry.get("my-lm").location == "/second"
    assert registry.available() == ["my-lm"]


@pytest.mark.parametrize("bad_id", ["../x", "a/b", "", ".hidden", "a b", "x" * 101, "a\\b"])
def test_invalid_ids_are_rejected(bad_id):
    registry = ModelRegistry()
    with pytest.raises(ValueError, match="model id"):
        registry.register(text_spec(bad_id))
    assert registry.available() == []


@pytest.mark.parametrize("good_id", ["a", "Qwen2.5-0.5B_instruct", "x" * 100])
def test_valid_ids_are_accepted(good_id):
    registry = ModelRegistry()
    registry.register(text_spec(good_id))
    assert registry.available() == [good_id]


@pytest.mark.parametrize("kind, loader", [("image", "hf"), ("text", "timm-lukemelas"),
                                          ("embedding", "gguf"), ("text", "sentence-transformers")])
def test_loader_that_cannot_load_the_kind_is_rejected(kind, loader):
    with pytest.raises(ValueError, match="cannot load"):
        ModelRegistry().register(ModelSpec("m", kind, loader, "/x", "d"))


def test_unknown_id_error_lists_registered_ids():
    registry = ModelRegistry()
    registry.register(text_spec("first-lm"))
    registry.register(text_spec("second-lm"))
    with pytest.raises(UnknownModelError) as info:
        registry.get("nope")
    message = str(info.value)
    assert "'nope'" in message
    assert message == "unknown model id 'nope'; registered: first-lm, second-lm"
    assert isinstance(info.value, UnknownNameError) and isinstance(info.value, UserInputError)
    assert (info.value.name, info.value.choices) == ("nope", ["first-lm", "second-lm"])


def test_unknown_id_error_is_read_back_from_a_service_detail():
    sent = UnknownModelError("it's", ["a-lm", "b-lm"])
    read = UnknownModelError.from_detail(str(sent))
    assert str(read) == str(sent) == "unknown model id \"it's\"; registered: a-lm, b-lm"
    assert (read.name, read.choices) == ("it's", ["a-lm", "b-lm"])
    assert UnknownModelError.from_detail(str(UnknownModelError("x", []))).choices == []
    assert UnknownModelError.from_detail("no saved item with id 'model-1'") is None



def test_infer_text_loader():
    assert infer_text_loader("/x/y.gguf") == "gguf"
    assert infer_text_loader("/x/Y.GGUF") == "gguf"
    assert infer_text_loader("/models/folder") == "hf"
    assert infer_text_loader("org/name") == "hf"


def test_parse_text_models_env_infers_gguf_and_hf_loaders():
    specs = parse_text_models_env("a=/x/y.gguf;b=org/name")
    assert [(s.id, s.kind, s.loader, s.location, s.chat) for s in specs] == [
        ("a", "text", "gguf", "/x/y.gguf", True),
        ("b", "text", "hf", "org/name", True),
    ]


def test_parse_text_models_env_strips_blanks_and_skips_empty_entries():
    specs = parse_text_models_env(" a = /x/y.gguf ; ;b=org/name;")
    assert [(s.id, s.location) for s in specs] == [("a", "/x/y.gguf"), ("b", "org/name")]
    assert parse_text_models_env("") == []


@pytest.mark.parametrize("value", ["justanid", "=/x/y.gguf", "a=", "a= ", " =org/name"])
def test_parse_text_models_env_rejects_malformed_entries(value):
    with pytest.raises(ValueError, match="id=/path/or/hub-id"):
        parse_text_models_env(value)


def write_json(tmp_path: Path, content) -> Path:
    path = tmp_path / "models.json"
    path.write_text(json.dumps(content))
    return path


def test_parse_models_file_reads_entries_and_fills_defaults(tmp_path):
    path = write_json(tmp_path, [
        {"id": "lm", "kind": "text", "location": "/m/lm.gguf"},
        {"id": "lm2", "kind": "text", "location": "org/name", "chat": True, "description": "mine"},
        {"id": "img", "kind": "image", "loader": "timm-lukemelas", "location": "/m/x.pth", "arch": "efficientnet_lite0"},
    ])
    specs = parse_models_file(path)
    assert [s.id for s in specs] == ["lm", "lm2", "img"]
    assert specs[0].loader == "gguf" and specs[0].chat is False and "/m/lm.gguf" in specs[0].description
    assert specs[1].loader == "hf" and specs[1].chat is True and specs[1].description == "mine"
    assert specs[2].loader == "timm-lukemelas" and specs[2].arch == "efficientnet_lite0"


@pytest.mark.parametrize("content", [
    {"id": "lm", "kind": "text", "location": "/x"},
    [{"kind": "text", "location": "/x"}],
    [{"id": "lm", "location": "/x"}],
    [{"id": "lm", "kind": "text"}],
    [{"id": "lm", "kind": "text", "location": "/x", "colour": "red"}],
    ["lm"],
])
def test_parse_models_file_rejects_malformed_content(tmp_path, content):
    with pytest.raises(ValueError):
        parse_models_file(write_json(tmp_path, content))


def test_parse_models_file_rejects_invalid_json(tmp_path):
    path = tmp_path / "models.json"
    path.write_text("[{not json")
    with pytest.raises(ValueError):
        parse_models_file(path)


def test_build_registry_without_environment_has_the_three_defaults():
    registry = build_registry(environ={})
    assert registry.available() == [DEFAULT_TEXT_MODEL, DEFAULT_IMAGE_MODEL, DEFAULT_EMBEDDING_MODEL]
    assert registry.get(DEFAULT_TEXT_MODEL).kind == "text"
    assert registry.get(DEFAULT_TEXT_MODEL).loader == "gguf"
    assert registry.get(DEFAULT_TEXT_MODEL).chat is True
    assert registry.get(DEFAULT_IMAGE_MODEL).kind == "image"
    assert registry.get(DEFAULT_EMBEDDING_MODEL).kind == "embedding"


def test_build_registry_adds_models_from_environment(tmp_path):
    path = write_json(tmp_path, [{"id": "from-file", "kind": "text", "location": "/m/folder"}])
    registry = build_registry(environ={"UQLENS_MODELS_FILE": str(path), "UQLENS_TEXT_MODELS": "from-env=/m/x.gguf"})
    assert registry.available("text") == [DEFAULT_TEXT_MODEL, "from-file", "from-env"]
    assert registry.get("from-env").loader == "gguf"
    assert registry.get("from-file").loader == "hf"


def test_build_registry_refuses_to_shadow_a_default():
    with pytest.raises(ValueError, match="already registered"):
        build_registry(environ={"UQLENS_TEXT_MODELS": f"{DEFAULT_TEXT_MODEL}=/m/other.gguf"})


def test_unknown_kind_in_models_file_raises_value_error_naming_the_kinds(tmp_path):
    path = write_json(tmp_path, [{"id": "speech", "kind": "audio", "loader": "hf", "location": "/m/x"}])
    with pytest.raises(ValueError, match="text"):
        build_registry(environ={"UQLENS_MODELS_FILE": str(path)})


def test_model_info_hides_location():
    info = DEFAULT_SPECS[0].info(default=True)
    assert info.id == DEFAULT_TEXT_MODEL and info.default is True and info.source == "gguf"
    assert "pkg:" not in info.model_dump_json()


@pytest.mark.parametrize("spec", DEFAULT_SPECS, ids=lambda s: s.id)
def test_default_package_locations_resolve_to_existing_files(spec):
    assert spec.location.startswith("pkg:")
    path = Path(resolve_location(spec.location))
    assert path.is_absolute()
    assert path.exists(), path


def test_resolve_location_leaves_plain_locations_unchanged():
    assert resolve_location("/models/x.gguf") == "/models/x.gguf"
    assert resolve_location("org/name") == "org/name"


def test_resolve_location_of_missing_package_raises_file_not_found():
    with pytest.raises(FileNotFoundError, match="no_such_uqlens_package"):
        resolve_location("pkg:no_such_uqlens_package/weights.bin")


SERVED_ENTRY = {"id": "big", "kind": "text", "loader": "openai", "location": "http://gpu1:8000/v1/",
                "model": "meta-llama/Llama-3.1-70B-Instruct", "api_key_env": "MY_KEY"}


def test_a_served_models_file_entry_registers_its_engine_and_never_a_key(tmp_path, monkeypatch):
    monkeypatch.setenv("MY_KEY", "sk-never-stored-4f1e")
    (spec,) = parse_models_file(write_json(tmp_path, [{**SERVED_ENTRY, "vocab_size": 128256}]))
    assert (spec.loader, spec.location, spec.engine, spec.chat) == ("openai", "http://gpu1:8000/v1", "vllm", True)
    assert (spec.served.model, spec.served.api_key_env, spec.served.vocab_size) == (
        "meta-llama/Llama-3.1-70B-Instruct", "MY_KEY", 128256)
    info = spec.info()
    assert (info.engine, info.capabilities, info.source) == ("vllm", ["token_logprobs", "score_given_answer", "generate"], "openai")
    assert "sk-never-stored-4f1e" not in repr(spec) + info.model_dump_json()


def test_a_generic_openai_server_entry_cannot_score_and_local_models_can_do_everything(tmp_path):
    (spec,) = parse_models_file(write_json(tmp_path, [{**SERVED_ENTRY, "engine": "openai"}]))
    assert (spec.engine, spec.capabilities) == ("openai", ("token_logprobs", "generate"))
    local = build_registry({}).get(DEFAULT_TEXT_MODEL).info()
    assert local.engine == "in-process" and {"attention", "gradients", "full_distribution"} <= set(local.capabilities)


@pytest.mark.parametrize("change, words", [
    ({"model": None}, "lacks 'model', the served model name"),
    ({"location": "gpu1:8000"}, "must be an http(s) base URL ending in /v1"),
    ({"engine": "tgi"}, "engine 'tgi' is not one of vllm, openai"),
    ({"api_key_env": "sk-abc def"}, "must be the NAME of an environment variable"),
    ({"vocab_size": 0}, "vocab_size must be a positive number"),
    ({"kind": "image"}, "serves text models only"),
    ({"loader": None}, "only a served model takes; add \"loader\": \"openai\""),
])
def test_a_bad_served_entry_says_what_to_change_without_echoing_the_key_name_as_a_value(tmp_path, change, words):
    entry = {key: value for key, value in {**SERVED_ENTRY, **change}.items() if value is not None}
    with pytest.raises(UserInputError, match=re.escape(words)) as err:
        parse_models_file(write_json(tmp_path, [entry]))
    assert "entry 1 ('big')" in str(err.value) and "sk-abc def" not in str(err.value)


def test_text_models_env_takes_a_served_model_with_options():
    (spec,) = parse_text_models_env("big=openai+http://gpu1:8000/v1#org/served-name&api_key_env=MY_KEY"
                                    "&engine=openai&vocab_size=49152")
    assert (spec.id, spec.loader, spec.location, spec.served.model, spec.served.api_key_env, spec.engine,
            spec.served.vocab_size) == ("big", "openai", "http://gpu1:8000/v1", "org/served-name", "MY_KEY", "openai",
                                        49152)
    plain = parse_text_models_env("small=openai+http://127.0.0.1:8000/v1#smollm2")[0]
    assert (plain.engine, plain.served.api_key_env, plain.served.vocab_size) == ("vllm", None, None)


@pytest.mark.parametrize("value, words", [
    ("big=openai+http://gpu1:8000/v1", "lacks 'model'"),
    ("big=openai+http://gpu1:8000/v1#name&key=sk-1", "option 'key' must be one of api_key_env=..."),
    ("big=openai+http://gpu1:8000/v1#name&vocab_size=lots", "vocab_size must be a whole number"),
    ("big=openai+gpu1#name", "must be an http(s) base URL ending in /v1"),
])
def test_a_bad_served_text_models_entry_says_what_to_change(value, words):
    with pytest.raises(UserInputError, match=re.escape(words)) as err:
        parse_text_models_env(value)
    assert "sk-1" not in str(err.value)
