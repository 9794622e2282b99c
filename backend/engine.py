"""The engine: a thin dispatcher that runs each analysis row of the operations table (backend.service.operations.
Analyses, inherited as methods: `engine.analyze_text(request)`) on the models of its pool (backend.models.pool
loads each once and holds the lock that serialises work on it). A row with a served pipeline runs that one when
the request's text model is served by an engine (its registry entry has .served): the choice is made here, once.
"""
from __future__ import annotations

import threading
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Optional

from backend.errors import UserInputError
from backend.image.input import read_image
from backend.models.embedding_loader import LoadedEmbeddingModel
from backend.models.image_loader import LoadedImageModel
from backend.models.nli_loader import LoadedNliModel
from backend.models.pool import ModelPool
from backend.models.registry import ModelRegistry
from backend.models.text_loader import LoadedTextModel
from backend.schemas import DEFAULT_TEXT_MODEL, ModelInfo
from backend.schemas.sequence import MeaningSource, SequenceRequest
from backend.analyses.evidence import CLAIM_EVIDENCE, EMBEDDING_EVIDENCE, MEANING_EVIDENCE
from backend.sequence.pipeline import SequenceModels, needed_evidence, runnable_methods
from backend.sequence.method_spec import MethodSpec
from backend.served.model import ServedTextModel
from backend.service.operations import Analyses, Operation, text_requests_in


class Engine(Analyses):
    """Runs each analysis row on the pool's models, under their locks; thread-safe."""

    def __init__(self, registry: Optional[ModelRegistry] = None, cache_dir: Optional[Path] = None,
                 device: Optional[str] = None) -> None:
        self.pool = ModelPool(registry, cache_dir, device)
        self.registry, self.cache_dir, self.device = self.pool.registry, self.pool.cache_dir, self.pool.device

    def call(self, operation: Operation, *arguments: Any) -> Any:
        """Run one analysis row: its pipeline called with what the row runs on (backend.service.operations.RUNS_ON),
        the models loaded from the pool and their locks held while it runs; the row's served pipeline when its
        request's text model is served; ValueError for an audit row."""
        pipeline, runs_on = operation.function(served=self.serves(*arguments)), operation.runs_on
        if runs_on == "request":
            return pipeline(*arguments)
        (argument,) = arguments
        if runs_on == "engine":
            return pipeline(self, argument)
        if runs_on == "image model id":
            return pipeline(self.image_model(argument))
        if runs_on == "text model":
            with self.pool.using("text", argument.model) as lm:
                return pipeline(lm, argument)
        if runs_on == "image model":
            read = read_image(argument.image)  # decoded (or refused) before the model is loaded and locked
            with self.pool.using("image", argument.model) as lm:
                return pipeline(lm, argument, read)
        if runs_on == "sequence models":
            models = self.sequence_models(argument)
            with self._hold(models):
                return pipeline(models, argument)
        raise ValueError(f"{operation.method_name} runs on the {runs_on}, which the engine does not have; call it "
                         f"through a client")

    def serves(self, *arguments: Any) -> bool:
        """Whether the (one) argument is a request whose text model is registered as served by an engine."""
        texts = text_requests_in(arguments[0]) if len(arguments) == 1 else []
        return bool(texts) and self.pool.is_served(texts[0].model)

    def models(self) -> list[ModelInfo]:
        """Every registered model, defaults flagged."""
        defaults = {DEFAULT_TEXT_MODEL}
        return [self.registry.get(i).info(default=i in defaults) for i in self.registry.available()]

    def model_lock(self, model_id: str) -> threading.Lock:
        """The lock that serialises all work on one model (hooks and dropout mutate shared modules)."""
        return self.pool.lock(model_id)

    def text_model(self, model_id: str) -> LoadedTextModel | ServedTextModel:
        """The loaded text model for a registered id, loading it on first use (a served one: its engine's client)."""
        return self.pool.text(model_id)

    def image_model(self, model_id: str) -> LoadedImageModel:
        """The loaded image classifier for a registered id, loading it on first use."""
        return self.pool.image(model_id)

    def embedding_model(self, model_id: str) -> LoadedEmbeddingModel:
        """The loaded sentence-embedding model for a registered id."""
        return self.pool.embedding(model_id)

    def nli_model(self, model_id: str) -> LoadedNliModel:
        """The loaded NLI classifier for a registered id."""
        return self.pool.nli(model_id)

    def meaning_source(self, request: SequenceRequest) -> MeaningSource:
        """Which model decides that two answers mean the same: the named one, else the first registered NLI model,
        else the embedding model with the request's threshold."""
        model_id = request.meaning_model or next(iter(self.registry.available("nli")), request.embedding_model)
        kind = self.registry.get(model_id).kind
        if kind == "nli":
            return MeaningSource(kind="nli", model=model_id, rule=(
                "two answers mean the same when the NLI model classifies each as entailing the other; their "
                "affinity is the mean of the two entailment probabilities"))
        if kind != "embedding":
            raise UserInputError(f"{model_id!r} is a {kind} model; meaning needs an NLI or an embedding model")
        if model_id != request.embedding_model:
            raise UserInputError(f"meaning by embeddings uses the embedding model; set embedding_model to "
                                 f"{model_id!r} instead of meaning_model")
        return MeaningSource(kind="embedding", model=model_id, threshold=request.similarity_threshold, rule=(
            f"what two answers say beyond the question (their words that are not the prompt's) is compared: their "
            f"affinity is 1 when one only adds words to the other (no negation or 'or'), else the cosine of the "
            f"embeddings (negatives as 0); they mean the same when it is at least {request.similarity_threshold:g}"))

    def sequence_models(self, request: SequenceRequest) -> SequenceModels:
        """The models the request's methods use, loaded (the embedding and NLI models only when needed)."""
        specs = self.runnable_methods(request)[0]
        meaning = self.meaning_source(request) if any(set(spec.needs) & MEANING_EVIDENCE for spec in specs) else None
        evidence = set(needed_evidence(specs, meaning.kind if meaning else ""))
        by_embedding = bool(evidence & CLAIM_EVIDENCE) and meaning is not None and meaning.kind == "embedding"
        embedder = self.embedding_model(request.embedding_model) if evidence & EMBEDDING_EVIDENCE or by_embedding \
            else None
        nli = self.nli_model(meaning.model) if meaning and meaning.kind == "nli" else None
        return SequenceModels(lm=self.text_model(request.text.model), embedder=embedder, nli=nli, meaning=meaning)

    def runnable_methods(self, request: SequenceRequest) -> tuple[list[MethodSpec], dict[str, str]]:
        """The request's methods its text model can run, and those left out with why (backend.sequence.pipeline.
        runnable_methods on the model's capabilities)."""
        return runnable_methods(request, self.registry.get(request.text.model).capabilities)

    def _hold(self, models: SequenceModels) -> ExitStack:
        """The locks of every model used, taken in id order (so two analyses never wait on each other in a cycle)."""
        return self.pool.hold(m.spec.id for m in (models.lm, models.embedder, models.nli) if m is not None)
