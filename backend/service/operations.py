"""The analysis operations the service exposes: one row per Client method, so routes and HttpClient agree."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from backend.schemas import ImageAnalysis, ImageMethods, ImageRequest, ImageUncertainty, TextAnalysis, TextRequest
from backend.schemas.audit import (AuditDatasetUpload, AuditItem, AuditOverride, AuditProgress, AuditRequest,
                                   AuditResult, UploadedAuditDataset)
from backend.schemas.image import SaliencyAnalysis, SaliencyRequest, UncertaintyRequest
from backend.schemas.sequence import MethodCost, MethodInfo, SequenceAnalysis, SequenceRequest
from backend.schemas.text_attention import TextAttention, TextAttentionRequest
from backend.schemas.text_saliency import SaliencyCatalog, TextSaliency, TextSaliencyRequest


@dataclass(frozen=True)
class Operation:
    """A Client method served at `path`: POST with a JSON body of `request_type`, or GET without one.

    heavy: runs a model (or summarises a whole audit), so it takes an admission slot (429 when the queue is full).
    query: name of the one string query parameter a GET takes (e.g. the model id), if any.
    """

    method_name: str
    path: str
    request_type: Optional[type]
    response_type: Any
    heavy: bool
    query: Optional[str] = None


OPERATIONS = (
    Operation("analyze_text", "/v1/text", TextRequest, TextAnalysis, heavy=True),
    Operation("text_attention", "/v1/text/attention", TextAttentionRequest, TextAttention, heavy=True),
    Operation("text_saliency_catalog", "/v1/text/saliency/methods", None, SaliencyCatalog, heavy=False),
    Operation("text_saliency", "/v1/text/saliency", TextSaliencyRequest, TextSaliency, heavy=True),
    Operation("sequence_methods", "/v1/sequence/methods", None, list[MethodInfo], heavy=False),
    Operation("estimate_sequence_cost", "/v1/sequence/cost", SequenceRequest, list[MethodCost], heavy=True),
    Operation("analyze_sequence", "/v1/sequence", SequenceRequest, SequenceAnalysis, heavy=True),
    Operation("image_methods", "/v1/image/methods", None, ImageMethods, heavy=False, query="model"),
    Operation("analyze_image", "/v1/image", ImageRequest, ImageAnalysis, heavy=True),
    Operation("image_uncertainty", "/v1/image/uncertainty", UncertaintyRequest, ImageUncertainty, heavy=True),
    Operation("image_saliency", "/v1/image/saliency", SaliencyRequest, SaliencyAnalysis, heavy=True),
    Operation("upload_audit_dataset", "/v1/audit/datasets", AuditDatasetUpload, UploadedAuditDataset, heavy=True),
    Operation("start_audit", "/v1/audit/start", AuditRequest, AuditProgress, heavy=True),
    Operation("run_audit_batch", "/v1/audit/batch", AuditRequest, AuditProgress, heavy=True),
    Operation("audit_result", "/v1/audit/result", AuditRequest, AuditResult, heavy=True),
    Operation("set_audit_override", "/v1/audit/override", AuditOverride, AuditItem, heavy=False),
)
UPLOAD_PATHS = ("/v1/image", "/v1/audit/datasets")  # bodies carrying a file as base64 get the larger size cap
OPERATIONS_BY_NAME = {operation.method_name: operation for operation in OPERATIONS}


def audit_requests_in(request: Any) -> list[AuditRequest]:
    """The AuditRequest a request is, if any, for the service's dataset and batch checks."""
    return [request] if isinstance(request, AuditRequest) else []


def text_requests_in(request: Any) -> list[TextRequest]:
    """The TextRequests a request carries (itself, or nested as `.text`), for the service's token cap."""
    if isinstance(request, TextRequest):
        return [request]
    nested = getattr(request, "text", None)
    return [nested] if isinstance(nested, TextRequest) else []
