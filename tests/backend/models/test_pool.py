"""The model pool on tiny registered models: each loaded once, a lock per model taken in id order, the attention
forward kept per model and let go on demand, passes timed once."""
from __future__ import annotations

import threading
import time

import pytest

from backend.engine import Engine
from backend.errors import ModelLoadError, UserInputError
from backend.models import pool as pool_module
from backend.models.pool import ModelPool
from backend.models.registry import ModelRegistry, ModelSpec, UnknownModelError, parse_served_location
from backend.schemas.text_attention import TextAttentionRequest
from backend.text.attention import attention_maps
from tests.backend.tiny_models import save_tiny_encoder

IDS = list(range(100, 112))  # twelve token ids of the tiny LM's vocabulary
OTHER_IDS = list(range(200, 209))


@pytest.fixture(scope="module")
def folders(tmp_path_factory, tiny_lm):
    lm_folder = tmp_path_factory.mktemp("pool-lm")
    tiny_lm.model.save_pretrained(lm_folder, safe_serialization=True)
    tiny_lm.tokenizer.save_pretrained(lm_folder)
    return {"lm": lm_folder, "encoder": save_tiny_encoder(tmp_path_factory.mktemp("pool-enc"))}


def registry_of(folders) -> ModelRegistry:
    """Two text models (the same weights, loaded apart) and a sentence encoder."""
    registry = ModelRegistry()
    for model_id in ("lm-a", "lm-b"):
        registry.register(ModelSpec(model_id, "text", "hf", str(folders["lm"]), "tiny LM", chat=True))
    registry.register(ModelSpec("enc", "embedding", "sentence-transformers", str(folders["encoder"]), "encoder"))
    return registry


@pytest.fixture
def pool(folders, tmp_path) -> ModelPool:
    return ModelPool(registry_of(folders), tmp_path, "cpu")


def attention_request(model_id: str, ids: list[int]) -> TextAttentionRequest:
    return TextAttentionRequest(model=model_id, ids=ids, answer_start=len(ids) - 3)


def test_a_model_is_loaded_once_even_when_two_threads_ask_first(pool, monkeypatch):
    loads = []
    real = pool_module.LOADERS["embedding"]

    def counted(spec, cache_dir, device):
        loads.append(spec.id)
        time.sleep(0.2)  # the second thread asks while the first is still loading
        return real(spec, cache_dir, device)

    monkeypatch.setitem(pool_module.LOADERS, "embedding", counted)
    got = []
    threads = [threading.Thread(target=lambda: got.append(pool.embedding("enc"))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert loads == ["enc"]
    assert got[0] is got[1] is pool.embedding("enc")
    assert pool.loaded_ids() == ["enc"]


def test_wrong_kind_unknown_id_and_missing_weights_say_what_to_change(pool, tmp_path):
    with pytest.raises(UserInputError, match="'enc' is a embedding model; pick a text model: lm-a, lm-b"):
        pool.text("enc")
    with pytest.raises(UserInputError, match="pick an nli model: none is registered"):
        pool.nli("lm-a")
    with pytest.raises(UnknownModelError, match="unknown model id 'nope'; registered: lm-a, lm-b, enc"):
        pool.image("nope")
    pool.registry.register(ModelSpec("gone", "embedding", "sentence-transformers", str(tmp_path / "gone"), "x"))
    with pytest.raises(ModelLoadError, match="could not load model 'gone' from .*gone"):
        pool.embedding("gone")
    assert pool.loaded_ids() == []


class RecordedLock:
    """A lock that notes its model id in `taken` each time it is taken."""

    def __init__(self, model_id: str, taken: list[str]) -> None:
        self.model_id, self.taken, self.inner = model_id, taken, threading.Lock()

    def __enter__(self) -> None:
        self.taken.append(self.model_id)
        self.inner.acquire()

    def __exit__(self, *_) -> None:
        self.inner.release()

    def locked(self) -> bool:
        return self.inner.locked()


def test_each_model_has_one_lock_and_hold_takes_them_once_in_id_order(pool):
    assert pool.lock("lm-a") is pool.lock("lm-a")
    assert pool.lock("lm-a") is not pool.lock("lm-b")
    taken: list[str] = []
    for model_id in ("lm-a", "lm-b", "enc"):
        pool._slot(model_id).lock = RecordedLock(model_id, taken)
    with pool.hold(["lm-b", "enc", "lm-a", "lm-b"]):
        assert all(pool.lock(m).locked() for m in ("lm-a", "lm-b", "enc"))
    assert taken == ["enc", "lm-a", "lm-b"]
    assert not any(pool.lock(m).locked() for m in ("lm-a", "lm-b", "enc"))


def test_using_holds_the_models_lock_for_the_block(pool):
    with pool.using("embedding", "enc") as encoder:
        assert encoder is pool.embedding("enc")
        assert pool.lock("enc").locked() and not pool.lock("lm-a").locked()
    assert not pool.lock("enc").locked()


def test_the_attention_forward_is_kept_per_model_and_let_go_on_demand(pool):
    lm_a, lm_b = pool.text("lm-a"), pool.text("lm-b")
    assert lm_a.model is not lm_b.model
    first = attention_maps(lm_a, attention_request("lm-a", IDS))
    attention_maps(lm_b, attention_request("lm-b", OTHER_IDS))
    assert pool.kept_attention("lm-a").key == tuple(IDS)  # lm-b's run kept its own, lm-a's stays
    assert pool.kept_attention("lm-b").key == tuple(OTHER_IDS)
    assert pool.kept_attention("lm-a") is not pool.kept_attention("lm-b")
    runs = []
    hook = lm_a.model.register_forward_hook(lambda *_: runs.append(1))
    try:
        again = attention_maps(lm_a, attention_request("lm-a", IDS))
        assert runs == [] and again.rollout == first.rollout
        pool.clear_caches()
        assert pool.kept_attention("lm-a").key is None and pool.kept_attention("lm-b").key is None
        assert attention_maps(lm_a, attention_request("lm-a", IDS)).rollout == first.rollout
        assert runs == [1]
    finally:
        hook.remove()


def test_the_engine_answers_a_new_view_from_the_pools_kept_forward(folders, tmp_path):
    engine = Engine(registry=registry_of(folders), cache_dir=tmp_path, device="cpu")
    runs = []
    hook = engine.pool.text("lm-a").model.register_forward_hook(lambda *_: runs.append(1))
    try:
        engine.text_attention(attention_request("lm-a", IDS))
        engine.text_attention(attention_request("lm-a", IDS))
    finally:
        hook.remove()
    assert runs == [1] and engine.pool.kept_attention("lm-a").key == tuple(IDS)
    assert engine.model_lock("lm-a") is engine.pool.lock("lm-a")


def test_a_pass_is_timed_once_and_a_kept_time_needs_no_lock(pool):
    measured = []
    assert pool.timed("lm-a", 3, lambda: measured.append(1) or 0.25) == 0.25
    with pool.lock("lm-a"):  # another request is working on the model
        assert pool.timed("lm-a", 3, lambda: measured.append(1) or 9.0) == 0.25
    assert measured == [1] and pool.pass_seconds("lm-a") == {3: 0.25} and pool.pass_seconds("lm-b") == {}


def test_a_served_model_takes_no_lock_so_its_engine_sees_concurrent_requests(folders):
    registry = registry_of(folders)
    registry.register(parse_served_location("big", "openai+http://127.0.0.1:9/v1#big-model", "'big'"))
    pool = ModelPool(registry, device="cpu")
    assert pool.is_served("big") and not pool.is_served("lm-a") and not pool.is_served("unregistered")
    with pool.using("text", "big") as first, pool.using("text", "big") as second:
        assert first is second and first.spec.id == "big"
        assert not pool.lock("big").locked()
    with pool.hold(["lm-a", "big"]):
        assert pool.lock("lm-a").locked() and not pool.lock("big").locked()
