"""The engine: runs the analyses on the models of its pool (backend.models.pool loads each once and holds the
lock that serialises work on it)."""
from __future__ import annotations

import logging
import threading
from contextlib import ExitStack
from pathlib import Path
from typing import Optional

from backend.errors import UserInputError
from backend.image.input import read_image
from backend.image.methods import works_on
from backend.image.prediction import predict
from backend.image.saliency import SALIENCY_METHODS, analyze_saliency
from backend.image.uncertainty import UNCERTAINTY_METHODS, analyze_uncertainty
from backend.sequence.methods import METHODS
from backend.models.embedding_loader import LoadedEmbeddingModel
from backend.models.image_loader import LoadedImageModel
from backend.models.nli_loader import LoadedNliModel
from backend.models.pool import ModelPool
from backend.models.registry import ModelRegistry
from backend.models.text_loader import LoadedTextModel
from backend.schemas import DEFAULT_TEXT_MODEL, ModelInfo, TextAnalysis, TextRequest
from backend.schemas.image import (ImageAnalysis, ImageMethods, ImageRequest, ImageUncertainty, SaliencyAnalysis,
                                   SaliencyRequest, UncertaintyRequest)
from backend.schemas.sequence import MeaningSource, MethodCost, MethodInfo, SequenceAnalysis, SequenceRequest
from backend.sequence.costs import estimate_costs, time_embedding_text, time_lm_pass, time_nli_pair
from backend.sequence.pipeline import SequenceModels, analyze_sequence, needed_evidence, selected_methods
from backend.text.generation import analyze_text
from backend.schemas.text_attention import TextAttention, TextAttentionRequest
from backend.schemas.text_saliency import SaliencyCatalog, TextSaliency, TextSaliencyRequest
from backend.text.attention import attention_maps
from backend.text.saliency import catalog as saliency_catalog, text_saliency

log = logging.getLogger(__name__)
EMBEDDING_EVIDENCE = {"token_relevance", "sample_embeddings", "sample_token_relevance"}


class Engine:
    """Dispatches each operation to its pipeline on the pool's models, under their locks; thread-safe."""

    def __init__(self, registry: Optional[ModelRegistry] = None, cache_dir: Optional[Path] = None,
                 device: Optional[str] = None) -> None:
        self.pool = ModelPool(registry, cache_dir, device)
        self.registry, self.cache_dir, self.device = self.pool.registry, self.pool.cache_dir, self.pool.device

    def models(self) -> list[ModelInfo]:
        """Every registered model, defaults flagged."""
        defaults = {DEFAULT_TEXT_MODEL}
        return [self.registry.get(i).info(default=i in defaults) for i in self.registry.available()]

    def model_lock(self, model_id: str) -> threading.Lock:
        """The lock that serialises all work on one model (hooks and dropout mutate shared modules)."""
        return self.pool.lock(model_id)

    def text_model(self, model_id: str) -> LoadedTextModel:
        """The loaded text model for a registered id, loading it on first use."""
        return self.pool.text(model_id)

    def analyze_text(self, request: TextRequest) -> TextAnalysis:
        """Token-level uncertainty of a generated or given answer (see backend.text.generation)."""
        lm = self.text_model(request.model)
        with self.model_lock(request.model):
            return analyze_text(lm, request)

    def text_attention(self, request: TextAttentionRequest) -> TextAttention:
        """Attention maps of an analysed sequence (see backend.text.attention)."""
        lm = self.text_model(request.model)
        with self.model_lock(request.model):
            return attention_maps(lm, request)

    def text_saliency_catalog(self) -> SaliencyCatalog:
        """The token saliency methods, targets and normalisations, with their metadata."""
        return saliency_catalog()

    def text_saliency(self, request: TextSaliencyRequest) -> TextSaliency:
        """Which input tokens drive the answer tokens' targets (see backend.text.saliency)."""
        lm = self.text_model(request.model)
        with self.model_lock(request.model):
            return text_saliency(lm, request)

    def image_model(self, model_id: str) -> LoadedImageModel:
        """The loaded image classifier for a registered id, loading it on first use."""
        return self.pool.image(model_id)

    def image_methods(self, model_id: str) -> ImageMethods:
        """The uncertainty and saliency methods that apply to this image model."""
        lm = self.image_model(model_id)
        return ImageMethods(
            model=model_id, family=lm.family, class_names=lm.class_names,
            uncertainty=[m.info() for m in UNCERTAINTY_METHODS.entries(works_on(lm.family))],
            saliency=[m.info() for m in SALIENCY_METHODS.entries(works_on(lm.family))])

    def analyze_image(self, request: ImageRequest) -> ImageAnalysis:
        """Top classes, entropy and margin of one image (see backend.image.prediction)."""
        read = read_image(request.image)
        lm = self.image_model(request.model)
        with self.model_lock(request.model):
            return predict(lm, request, read)

    def image_uncertainty(self, request: UncertaintyRequest) -> ImageUncertainty:
        """K stochastic passes (MC dropout or test-time augmentation) and their entropy split."""
        read = read_image(request.image)
        lm = self.image_model(request.model)
        with self.model_lock(request.model):
            return analyze_uncertainty(lm, request, read)

    def image_saliency(self, request: SaliencyRequest) -> SaliencyAnalysis:
        """Saliency maps of the top class, a chosen class or the entropy (see backend.image.saliency)."""
        read = read_image(request.image)
        lm = self.image_model(request.model)
        with self.model_lock(request.model):
            return analyze_saliency(lm, request, read)

    def embedding_model(self, model_id: str) -> LoadedEmbeddingModel:
        """The loaded sentence-embedding model for a registered id."""
        return self.pool.embedding(model_id)

    def nli_model(self, model_id: str) -> LoadedNliModel:
        """The loaded NLI classifier for a registered id."""
        return self.pool.nli(model_id)

    def sequence_methods(self) -> list[MethodInfo]:
        """Every sequence-level method, with the metadata the UI builds its controls from."""
        return [METHODS.get(name).info() for name in METHODS.available()]

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

    def _sequence_models(self, request: SequenceRequest) -> SequenceModels:
        """The models the request's methods use, loaded (the embedding and NLI models only when needed)."""
        specs = selected_methods(request)
        meaning = self.meaning_source(request) if any("meaning" in spec.needs for spec in specs) else None
        evidence = set(needed_evidence(specs, meaning.kind if meaning else ""))
        embedder = self.embedding_model(request.embedding_model) if evidence & EMBEDDING_EVIDENCE else None
        nli = self.nli_model(meaning.model) if meaning and meaning.kind == "nli" else None
        return SequenceModels(lm=self.text_model(request.text.model), embedder=embedder, nli=nli, meaning=meaning)

    def _hold(self, models: SequenceModels) -> ExitStack:
        """The locks of every model used, taken in id order (so two analyses never wait on each other in a cycle)."""
        return self.pool.hold(m.spec.id for m in (models.lm, models.embedder, models.nli) if m is not None)

    def estimate_sequence_cost(self, request: SequenceRequest) -> list[MethodCost]:
        """What the request's methods will cost: passes per piece of evidence, and seconds from passes timed on
        these models (each timed once, on first use)."""
        models = self._sequence_models(request)
        lm = models.lm
        answer = request.text.answer
        new_tokens = (len(lm.tokenizer(answer, add_special_tokens=False)["input_ids"]) if answer is not None
                      else request.text.max_new_tokens)
        embedder, nli = models.embedder, models.nli
        return estimate_costs(
            selected_methods(request), k=request.samples, new_tokens=new_tokens, given_answer=answer is not None,
            meaning_kind=models.meaning.kind if models.meaning else "",
            lm_pass_seconds=lambda batch: self.pool.timed(lm.spec.id, batch, lambda: time_lm_pass(lm, batch)),
            embedding_seconds=self.pool.timed(embedder.spec.id, 1, lambda: time_embedding_text(embedder))
            if embedder else None,
            nli_seconds=self.pool.timed(nli.spec.id, 1, lambda: time_nli_pair(nli)) if nli else None)

    def analyze_sequence(self, request: SequenceRequest) -> SequenceAnalysis:
        """Sequence-level uncertainty of a generated or given answer (see backend.sequence.pipeline)."""
        models = self._sequence_models(request)
        with self._hold(models):
            return analyze_sequence(models, request)
