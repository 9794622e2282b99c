"""The one interface the front end talks to. LocalClient runs the engine in-process (the default)."""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Optional, Protocol

from backend.schemas import ModelInfo, TextAnalysis, TextRequest
from backend.schemas.audit import (AuditDatasetUpload, AuditItem, AuditOverride, AuditProgress, AuditRequest,
                                   AuditResult, UploadedAuditDataset)
from backend.schemas.image import (ImageAnalysis, ImageMethods, ImageRequest, ImageUncertainty, SaliencyAnalysis,
                                   SaliencyRequest, UncertaintyRequest)
from backend.schemas.sequence import MethodCost, MethodInfo, SequenceAnalysis, SequenceRequest
from backend.schemas.store import SavedItem, SavedSummary, SaveRequest
from backend.schemas.text_attention import TextAttention, TextAttentionRequest
from backend.schemas.text_saliency import SaliencyCatalog, TextSaliency, TextSaliencyRequest

if TYPE_CHECKING:
    from backend.audit.store import AuditStore
    from backend.engine import Engine
    from backend.store.repository import Store


class Client(Protocol):
    """Operations the app needs; every implementation must give the same answers for the same requests."""

    def models(self) -> list[ModelInfo]:
        """Registered models."""
        ...

    def analyze_text(self, request: TextRequest) -> TextAnalysis:
        """Token-level uncertainty of a generated or given answer."""
        ...

    def text_attention(self, request: TextAttentionRequest) -> TextAttention:
        """Attention maps of an analysed sequence: answer rows, and one view's matrix window and head thumbnails."""
        ...

    def text_saliency_catalog(self) -> SaliencyCatalog:
        """Token saliency methods, targets and normalisations with their metadata."""
        ...

    def text_saliency(self, request: TextSaliencyRequest) -> TextSaliency:
        """Which input tokens drive the answer tokens' probability, contrast or entropy."""
        ...

    def sequence_methods(self) -> list[MethodInfo]:
        """Sequence-level uncertainty methods with their metadata (paper, direction, range, cost, parameters)."""
        ...

    def estimate_sequence_cost(self, request: SequenceRequest) -> list[MethodCost]:
        """What the request's methods will cost: passes, and seconds from passes timed on these models."""
        ...

    def analyze_sequence(self, request: SequenceRequest) -> SequenceAnalysis:
        """Sequence-level uncertainty scores of a generated or given answer, with their evidence."""
        ...

    def image_methods(self, model: str) -> ImageMethods:
        """The uncertainty and saliency methods that apply to an image model, with their parameters."""
        ...

    def analyze_image(self, request: ImageRequest) -> ImageAnalysis:
        """Top classes, entropy and margin of one image."""
        ...

    def image_uncertainty(self, request: UncertaintyRequest) -> ImageUncertainty:
        """K stochastic passes (MC dropout or test-time augmentation) and their entropy split."""
        ...

    def image_saliency(self, request: SaliencyRequest) -> SaliencyAnalysis:
        """Saliency maps of one target by several methods."""
        ...

    def upload_audit_dataset(self, upload: AuditDatasetUpload) -> UploadedAuditDataset:
        """Keep a dataset file for audits (JSONL / CSV, or a zip of labelled images) after checking it; audit it
        by the returned name (upload:...)."""
        ...

    def start_audit(self, request: AuditRequest) -> AuditProgress:
        """Check an audit (data, methods, model, labels) and record it; a started audit keeps its finished items."""
        ...

    def run_audit_batch(self, request: AuditRequest) -> AuditProgress:
        """Compute and keep the audit's next batch of request.batch_size pending items; call until complete."""
        ...

    def audit_result(self, request: AuditRequest) -> AuditResult:
        """Metrics and items of everything the audit has finished so far (nothing is computed)."""
        ...

    def set_audit_override(self, override: AuditOverride) -> AuditItem:
        """Replace (or clear) a person's verdict on one finished item; the metrics follow."""
        ...

    def save(self, request: SaveRequest) -> SavedItem:
        """Keep an analysis (idempotent by the request's id)."""
        ...

    def list_saved(self, *, query: str = "", tag: str = "", kind: str = "", limit: int = 100,
                   offset: int = 0) -> list[SavedSummary]:
        """Saved items, newest first, optionally filtered."""
        ...

    def saved_kinds(self) -> list[str]:
        """The kinds at least one saved item has, sorted."""
        ...

    def get_saved(self, item_id: str) -> Optional[SavedItem]:
        """One saved item with its payload, or None."""
        ...

    def delete_saved(self, item_id: str) -> bool:
        """Remove a saved item; False when there was none."""
        ...


class LocalClient:
    """Runs the engine in this process; the engine (and its models) and the stores are created on first use, once
    even when several threads (the app's sessions, the service's workers) ask at the same moment."""

    def __init__(self, engine: Optional[Engine] = None, store: Optional[Store] = None,
                 audit_store: Optional[AuditStore] = None) -> None:
        self._engine = engine
        self._store = store
        self._audit_store = audit_store
        self._creating = threading.Lock()

    @property
    def engine(self) -> Engine:
        """The engine, imported and built on first use so that importing the client stays light."""
        with self._creating:
            if self._engine is None:
                from backend.engine import Engine

                self._engine = Engine()
        return self._engine

    @property
    def store(self) -> Store:
        """The saved-analysis store (UQLENS_DATABASE_URL or data/uqlens.sqlite), opened on first use."""
        with self._creating:
            if self._store is None:
                from backend.store.repository import Store

                self._store = Store()
        return self._store

    @property
    def audit_store(self) -> AuditStore:
        """Audit runs and their finished items, in the same database as the saved analyses, opened on first use."""
        with self._creating:
            if self._audit_store is None:
                from backend.audit.store import AuditStore

                self._audit_store = AuditStore()
        return self._audit_store

    def models(self) -> list[ModelInfo]:
        return self.engine.models()

    def analyze_text(self, request: TextRequest) -> TextAnalysis:
        return self.engine.analyze_text(request)

    def text_attention(self, request: TextAttentionRequest) -> TextAttention:
        return self.engine.text_attention(request)

    def text_saliency_catalog(self) -> SaliencyCatalog:
        return self.engine.text_saliency_catalog()

    def text_saliency(self, request: TextSaliencyRequest) -> TextSaliency:
        return self.engine.text_saliency(request)

    def sequence_methods(self) -> list[MethodInfo]:
        return self.engine.sequence_methods()

    def estimate_sequence_cost(self, request: SequenceRequest) -> list[MethodCost]:
        return self.engine.estimate_sequence_cost(request)

    def analyze_sequence(self, request: SequenceRequest) -> SequenceAnalysis:
        return self.engine.analyze_sequence(request)

    def image_methods(self, model: str) -> ImageMethods:
        return self.engine.image_methods(model)

    def analyze_image(self, request: ImageRequest) -> ImageAnalysis:
        return self.engine.analyze_image(request)

    def image_uncertainty(self, request: UncertaintyRequest) -> ImageUncertainty:
        return self.engine.image_uncertainty(request)

    def image_saliency(self, request: SaliencyRequest) -> SaliencyAnalysis:
        return self.engine.image_saliency(request)

    def upload_audit_dataset(self, upload: AuditDatasetUpload) -> UploadedAuditDataset:
        from backend.audit.datasets import keep_upload

        return keep_upload(upload.filename, upload.data)

    def start_audit(self, request: AuditRequest) -> AuditProgress:
        from backend.audit.runner import start_audit

        return start_audit(request, self.engine, self.audit_store)

    def run_audit_batch(self, request: AuditRequest) -> AuditProgress:
        from backend.audit.runner import next_batch

        return next_batch(request, self.engine, self.audit_store)

    def audit_result(self, request: AuditRequest) -> AuditResult:
        from backend.audit.runner import summarize_audit

        return summarize_audit(request, self.audit_store)

    def set_audit_override(self, override: AuditOverride) -> AuditItem:
        return self.audit_store.set_override(override.audit_id, override.index, override.verdict)

    def save(self, request: SaveRequest) -> SavedItem:
        return self.store.save(request)

    def list_saved(self, *, query: str = "", tag: str = "", kind: str = "", limit: int = 100,
                   offset: int = 0) -> list[SavedSummary]:
        return self.store.list(query=query, tag=tag, kind=kind, limit=limit, offset=offset)

    def saved_kinds(self) -> list[str]:
        return self.store.kinds()

    def get_saved(self, item_id: str) -> Optional[SavedItem]:
        return self.store.get(item_id)

    def delete_saved(self, item_id: str) -> bool:
        return self.store.delete(item_id)
