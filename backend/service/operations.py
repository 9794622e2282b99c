"""The operations table: one row per analysis or audit operation, from which the routes, the clients and the
engine are all built.

A row is an `Operation` assigned in the body of `Analyses` (rows the engine serves: a request in, the models'
answer out) or `Operations` (those plus the audits, which keep their state in the audit store). The name it is
assigned to is the method name; read as a class attribute it is the row, read on an instance (an Engine, a
LocalClient, an HttpClient) it is a typed method that hands the row and its argument to the instance's `call`:
`client.analyze_text(request)` is `client.call(Operations.analyze_text, request)`. So a new operation is its
request/response schema, its pipeline function and one row here; the service route, both clients and (for an
analysis) the engine follow, and a static reader sees `client.analyze_text: (TextRequest) -> TextAnalysis`.

This module stays importable without torch (HttpClient needs it): a row names its pipeline as "module:function",
imported on first call. A row whose request carries a text model may name a second pipeline, `served`, for a text
model behind a serving engine (backend.served); the engine picks it when the request's model is served, so no
pipeline branches on the kind of model it was given.
"""
from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Literal, Optional, ParamSpec, TypeVar, get_args, overload

from backend.schemas import ImageAnalysis, ImageMethods, ImageRequest, ImageUncertainty, TextAnalysis, TextRequest
from backend.schemas.audit import (AuditDatasetUpload, AuditItem, AuditMethodCatalog, AuditOverride, AuditProgress,
                                   AuditRequest, AuditResult, UploadedAuditDataset)
from backend.schemas.audit_compare import AuditComparison, AuditComparisonRequest, KeptAudit
from backend.schemas.compare import TextComparison, TextComparisonRequest
from backend.schemas.image import SaliencyAnalysis, SaliencyRequest, UncertaintyRequest
from backend.schemas.imports import ImportRequest, ImportResult
from backend.schemas.relative_confidence import RelativeConfidenceCost
from backend.schemas.sequence import MethodCost, MethodInfo, SequenceAnalysis, SequenceRequest
from backend.schemas.text_attention import TextAttention, TextAttentionRequest
from backend.schemas.text_saliency import SaliencyCatalog, TextSaliency, TextSaliencyRequest

Arguments = ParamSpec("Arguments")
Result = TypeVar("Result")
Request = TypeVar("Request")
RunsOn = Literal["request", "text model", "image model", "image model id", "sequence models", "engine",
                 "audit store", "engine and audit store"]
RUNS_ON: tuple[str, ...] = get_args(RunsOn)
"""What a row's pipeline is called with (the argument is the request, or a GET's query value):
- request: pipeline(argument), or pipeline() for a GET without a query
- text model: pipeline(the loaded text model request.model, request), under that model's lock
- image model: pipeline(the loaded image model, request, the decoded request.image), under the model's lock
- image model id: pipeline(the loaded image model the query names)
- sequence models: pipeline(the request's SequenceModels, request), every model's lock held (in id order)
- engine: pipeline(engine, request)
- audit store: pipeline(request, audit store)
- engine and audit store: pipeline(request, engine, audit store)
The engine runs the rows on models (backend.engine.Engine.call); LocalClient runs the rest itself.
"""


@dataclass(frozen=True)
class Operation(Generic[Arguments, Result]):
    """One operation: its route, its types, the pipeline that computes it and what that pipeline runs on.

    path: served at this path, POST with a JSON body of `request_type`, or GET (request_type None) with the one
    string query parameter `query` when given. response_type: what it answers (a schema, or a list or str).
    pipeline: "module:function" that computes it; runs_on: what the function is called with (see RUNS_ON).
    heavy: runs a model (or reads a whole audit), so the service admits it by cost under a budget (429 when full).
    doc: one line for the method and the route's description. served: "module:function" computing it instead when
    the request's text model is served by an engine (None: the row runs `pipeline` on any model, or refuses a
    served one itself). method_name: the name it is assigned to.
    """

    path: str
    request_type: Optional[type]
    response_type: Any
    pipeline: str
    runs_on: RunsOn
    heavy: bool
    doc: str
    query: Optional[str] = None
    served: Optional[str] = None
    method_name: str = field(default="", compare=False)

    def __set_name__(self, owner: type, name: str) -> None:
        object.__setattr__(self, "method_name", name)

    def function(self, served: bool = False) -> Callable[..., Any]:
        """The pipeline function (the served one when `served` and the row has one), imported on first use of its
        module."""
        module, _, name = (self.served if served and self.served else self.pipeline).partition(":")
        return getattr(importlib.import_module(module), name)

    def signature(self) -> inspect.Signature:
        """The method's signature: (request: RequestType, /), (query: str, /) or (), returning response_type."""
        name, annotation = (("request", self.request_type) if self.request_type is not None
                            else (self.query, str) if self.query else (None, None))
        parameters = [inspect.Parameter(name, inspect.Parameter.POSITIONAL_ONLY, annotation=annotation)] if name else []
        return inspect.Signature(parameters, return_annotation=self.response_type)

    @overload
    def __get__(self, instance: None, owner: type) -> Operation[Arguments, Result]: ...

    @overload
    def __get__(self, instance: object, owner: type) -> Callable[Arguments, Result]: ...

    def __get__(self, instance, owner=None):
        """The row itself on the class; on an instance, the method that runs the row through instance.call."""
        if instance is None:
            return self

        def method(*arguments):
            return instance.call(self, *arguments)

        method.__name__ = method.__qualname__ = self.method_name
        method.__doc__ = self.doc
        method.__signature__ = self.signature()
        return method

    def __call__(self, instance: Any, *arguments: Any) -> Any:
        """The row read on a class works as an unbound method: `HttpClient.analyze_text(client, request)`."""
        return instance.call(self, *arguments)


def post(path: str, request_type: type[Request], response_type: type[Result], pipeline: str, runs_on: RunsOn, *,
         heavy: bool, doc: str, served: Optional[str] = None) -> Operation[[Request], Result]:
    """A row served as POST path with a JSON body of request_type; the method takes the request. served: the
    pipeline for a request whose text model is served by an engine."""
    return Operation(path, request_type, response_type, pipeline, runs_on, heavy, doc, served=served)


def get(path: str, response_type: type[Result], pipeline: str, runs_on: RunsOn = "request", *,
        doc: str) -> Operation[[], Result]:
    """A row served as GET path without parameters (a catalog: not heavy); the method takes nothing."""
    return Operation(path, None, response_type, pipeline, runs_on, False, doc)


def get_by(query: str, path: str, response_type: type[Result], pipeline: str, runs_on: RunsOn, *,
           doc: str) -> Operation[[str], Result]:
    """A row served as GET path?{query}=VALUE (not heavy); the method takes the value."""
    return Operation(path, None, response_type, pipeline, runs_on, False, doc, query)


class Analyses:
    """The rows the engine serves: a request in, the models' answer out (Engine inherits them as methods)."""

    analyze_text = post("/v1/text", TextRequest, TextAnalysis, "backend.text.generation:analyze_text", "text model",
                        heavy=True, doc="Token-level uncertainty of a generated or given answer.",
                        served="backend.served.text_analysis:analyze_served_text")
    compare_text = post("/v1/text/compare", TextComparisonRequest, TextComparison,
                        "backend.compare.pipeline:compare_text", "engine", heavy=True,
                        doc="Two models or settings on one prompt: both answers, each scored by the other side, and "
                            "the per-token differences in log-probability.")
    text_attention = post("/v1/text/attention", TextAttentionRequest, TextAttention,
                          "backend.text.attention:attention_maps", "text model", heavy=True,
                          doc="Attention maps of an analysed sequence: answer rows, and one view's matrix window and "
                              "head thumbnails.")
    text_saliency_catalog = get("/v1/text/saliency/methods", SaliencyCatalog, "backend.text.saliency:catalog",
                                doc="Token saliency methods, targets and normalisations with their metadata.")
    text_saliency = post("/v1/text/saliency", TextSaliencyRequest, TextSaliency, "backend.text.saliency:text_saliency",
                         "text model", heavy=True,
                         doc="Which input tokens drive the answer tokens' probability, contrast or entropy.")
    sequence_methods = get("/v1/sequence/methods", list[MethodInfo], "backend.sequence.catalog:sequence_methods",
                           doc="Sequence-level uncertainty methods with their metadata (paper, direction, range, "
                               "cost, parameters).")
    estimate_sequence_cost = post("/v1/sequence/cost", SequenceRequest, list[MethodCost],
                                  "backend.sequence.request_cost:estimate_request_cost", "engine", heavy=True,
                                  doc="What the request's methods will cost: passes, and seconds from passes timed on "
                                      "these models.", served="backend.served.sequence_costs:estimate_served_cost")
    analyze_sequence = post("/v1/sequence", SequenceRequest, SequenceAnalysis,
                            "backend.sequence.pipeline:analyze_sequence", "sequence models", heavy=True,
                            doc="Sequence-level uncertainty scores of a generated or given answer, with their "
                                "evidence.", served="backend.served.sequence_analysis:analyze_served_sequence")
    image_methods = get_by("model", "/v1/image/methods", ImageMethods, "backend.image.catalog:image_methods",
                           "image model id",
                           doc="The uncertainty and saliency methods that apply to an image model, with their "
                               "parameters.")
    analyze_image = post("/v1/image", ImageRequest, ImageAnalysis, "backend.image.prediction:predict", "image model",
                         heavy=True, doc="Top classes, entropy and margin of one image.")
    image_uncertainty = post("/v1/image/uncertainty", UncertaintyRequest, ImageUncertainty,
                             "backend.image.uncertainty:analyze_uncertainty", "image model", heavy=True,
                             doc="K stochastic passes (MC dropout or test-time augmentation) and their entropy split.")
    image_saliency = post("/v1/image/saliency", SaliencyRequest, SaliencyAnalysis,
                          "backend.image.saliency:analyze_saliency", "image model", heavy=True,
                          doc="Saliency maps of one target by several methods.")

    import_logs = post("/v1/imports", ImportRequest, ImportResult, "backend.imports.analysis:import_logs", "engine",
                       heavy=True, doc="Responses with log-probabilities (OpenAI chat completions, vLLM / OpenAI "
                                       "completions, or JSONL of them) shown and scored with no language model.")

class Operations(Analyses):
    """Every row: the analyses, and the audits, which keep their state in the audit store (Client inherits them)."""

    upload_audit_dataset = post("/v1/audit/datasets", AuditDatasetUpload, UploadedAuditDataset,
                                "backend.audit.operations:upload_dataset", "request", heavy=True,
                                doc="Keep a dataset file for audits (JSONL / CSV, or a zip of labelled images) after "
                                    "checking it; audit it by the returned name (upload:...).")
    start_audit = post("/v1/audit/start", AuditRequest, AuditProgress, "backend.audit.runner:start_audit",
                       "engine and audit store", heavy=True,
                       doc="Check an audit (data, methods, model, labels) and record it; a started audit keeps its "
                           "finished items.")
    run_audit_batch = post("/v1/audit/batch", AuditRequest, AuditProgress, "backend.audit.runner:next_batch",
                           "engine and audit store", heavy=True,
                           doc="Compute and keep the audit's next batch of request.batch_size pending items; call "
                               "until complete.")
    audit_result = post("/v1/audit/result", AuditRequest, AuditResult, "backend.audit.runner:summarize_audit",
                        "audit store", heavy=True,
                        doc="Metrics and items of everything the audit has finished so far (nothing is computed).")
    set_audit_override = post("/v1/audit/override", AuditOverride, AuditItem, "backend.audit.operations:set_override",
                              "audit store", heavy=False,
                              doc="Replace (or clear) a person's verdict on one finished item; the metrics follow.")
    audit_methods = get("/v1/audit/methods", AuditMethodCatalog, "backend.audit.methods:audit_method_catalog",
                        doc="Every confidence method an audit can use, with the data it works on and whether it is "
                            "a default.")
    audit_report = post("/v1/audit/report", AuditRequest, str, "backend.audit.operations:audit_report", "audit store",
                        heavy=True, doc="The offline HTML report (figures, metrics, items, settings) of everything "
                                        "the audit has finished so far.")
    estimate_relative_cost = post("/v1/audit/relative-cost", AuditRequest, RelativeConfidenceCost,
                                  "backend.decisions.relative_cost:estimate_relative_cost", "engine and audit store",
                                  heavy=True, doc="What the audit's relative-confidence comparisons still to compute "
                                                  "will cost: asking passes, and seconds from one question's "
                                                  "comparisons timed on its model.")
    compare_audits = post("/v1/audit/compare", AuditComparisonRequest, AuditComparison,
                          "backend.audit.compare_run:compare_audits", "audit store", heavy=True,
                          doc="Two kept audits of one dataset (or two methods of one audit) on the items both kept: "
                              "reliability, risk-coverage and metric differences with paired-bootstrap intervals.")
    kept_audits = get("/v1/audit/kept", list[KeptAudit], "backend.audit.compare_run:kept_audits", "audit store",
                      doc="The audits the store keeps (newest first, at most 200), to pick two to compare.")


def rows(table: type) -> list[Operation]:
    """The rows a table class defines itself (not those it inherits), in definition order."""
    return [value for value in vars(table).values() if isinstance(value, Operation)]


OPERATIONS: tuple[Operation, ...] = (*rows(Analyses), *rows(Operations))
UPLOAD_PATHS = ("/v1/image", "/v1/audit/datasets", "/v1/imports")  # bodies carrying a file get the larger size cap


def audit_requests_in(request: Any) -> list[AuditRequest]:
    """The AuditRequest a request is, if any, for the service's dataset and batch checks."""
    return [request] if isinstance(request, AuditRequest) else []


def text_requests_in(request: Any) -> list[TextRequest]:
    """The TextRequests a request carries (itself, or nested as `.text`, or a comparison's `.first` and `.second`),
    for the service's token cap."""
    if isinstance(request, TextRequest):
        return [request]
    nested = [getattr(request, name, None) for name in ("text", "first", "second")]
    return [text for text in nested if isinstance(text, TextRequest)]
