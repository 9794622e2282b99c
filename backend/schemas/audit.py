"""Calibration audits over a dataset: the request, each graded item, and the metrics of each method.

Confidences are probabilities in [0, 1]; scores keep their own units (log-probabilities and entropies in nats).
"""
from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator

from backend.schemas.cascade import CascadeResult
from backend.schemas.common import DEFAULT_EMBEDDING_MODEL, DEFAULT_TEXT_MODEL
from backend.schemas.label_issues import LabelIssueReport
from backend.schemas.selective import (ALPHA_HELP, CALIBRATION_FRACTION_HELP, DEFAULT_ALPHA,
                                       DEFAULT_CALIBRATION_FRACTION, DEFAULT_DELTA, DELTA_HELP, SelectiveDecision)

BUILTIN_QA = "builtin-qa"
BUILTIN_DIGITS = "builtin-digits"
MAX_AUDIT_ITEMS = 5000
MAX_AUDIT_UPLOAD_BYTES = 20 * 1024 * 1024
DEFAULT_GRADING_THRESHOLD = 0.8
AUDIT_ID_PATTERN = r"^[0-9a-f]{16}$"
Grading = Literal["alias", "embedding", "no_match", "label", "given", "claims"]


class AuditRequest(BaseModel):
    """What to audit: a dataset, a model and the confidence methods, with every setting that changes the result."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    dataset: str = Field(BUILTIN_QA, min_length=1, max_length=500,
                         description="builtin-qa, builtin-digits, upload:NAME (a file uploaded with "
                                     "upload_audit_dataset), or, in-process only, a path to a JSONL/CSV/zip file or "
                                     "images:PATH (a folder or zip of class folders)")
    model: str = Field(DEFAULT_TEXT_MODEL, min_length=1, max_length=200,
                       description="registered model id: a text model for questions, an image model for images")
    methods: list[str] = Field(["mean_logprob"], min_length=1, max_length=40)
    limit: Optional[int] = Field(None, ge=1, le=MAX_AUDIT_ITEMS, description="audit the first N items only")
    batch_size: int = Field(8, ge=1, le=64, description="items generated and scored together")
    concurrency: int = Field(8, ge=1, le=64, description="requests in flight at once to a served model; an "
                                                         "in-process model answers batch_size questions per "
                                                         "generate call (it does not change the results, so "
                                                         "not the audit id either)")
    max_new_tokens: int = Field(24, ge=1, le=128)
    samples: int = Field(5, ge=2, le=20, description="K sampled answers for sampling-based methods, or K passes "
                                                     "for MC dropout / test-time augmentation of images")
    seed: int = Field(0, ge=0, le=2**32 - 1)
    embedding_model: str = Field(DEFAULT_EMBEDDING_MODEL, min_length=1, max_length=200)
    grading_threshold: float = Field(DEFAULT_GRADING_THRESHOLD, ge=0.0, le=1.0,
                                     description="cosine similarity at or above which an answer with no alias "
                                                 "match still counts as right")
    alpha: float = Field(DEFAULT_ALPHA, gt=0.0, lt=1.0, description=ALPHA_HELP + " (not part of the audit id)")
    delta: float = Field(DEFAULT_DELTA, gt=0.0, lt=1.0, description=DELTA_HELP + " (not part of the audit id)")
    calibration_fraction: float = Field(DEFAULT_CALIBRATION_FRACTION, gt=0.0, lt=1.0,
                                        description=CALIBRATION_FRACTION_HELP + " (not part of the audit id)")
    defer_to: Optional[str] = Field(None, min_length=1, max_length=200, description=(
        "a second (larger) model to defer to: the result gains `cascade`, read from the audit of the same request "
        "with model = defer_to (audited like any other; not part of this audit's id)"))

    @field_validator("methods")
    @classmethod
    def _methods_named(cls, value: list[str]) -> list[str]:
        names = [name.strip() for name in value]
        if any(not name for name in names):
            raise ValueError("a method name is empty: give names such as mean_logprob,semantic_entropy")
        return list(dict.fromkeys(names))


class AuditMethodInfo(BaseModel):
    """A confidence method an audit can use, with how its score becomes a probability."""

    name: str
    label: str
    description: str
    paper: str
    higher_is: Literal["uncertain", "confident"]
    is_probability: bool = Field(description="the score itself is a probability of being right")
    source: Literal["token", "sequence", "classifier", "given", "pairwise"]
    cost: str


AuditMethodKind = Literal["text", "classifier", "image"]


class AuditCatalogEntry(AuditMethodInfo):
    """A method of the catalog, with the data it works on and whether it is selected unless changed."""

    kind: AuditMethodKind = Field(description="text: question audits; classifier: one forward pass (the digits "
                                              "classifier and image models); image: K passes (image models only)")
    default: bool = Field(description="selected unless changed, for data of its kind")
    sequence_method: Optional[str] = Field(None, description="the sequence registry entry it is "
                                                             "(/v1/sequence/methods), for text methods")
    requires: list[str] = Field(default_factory=list, description=(
        "text-model capabilities it needs (ModelInfo.capabilities: full_distribution, token_logprobs, "
        "score_given_answer, ...); a model lacking one cannot give it (CAPABILITY_NEEDS says why)"))


class AuditMethodCatalog(BaseModel):
    """Every confidence method an audit can use, text methods first (what a page offers for each data source)."""

    methods: list[AuditCatalogEntry]

    def names(self, *kinds: AuditMethodKind) -> list[str]:
        """Names of the methods of these kinds (every kind when none is given), in catalog order."""
        return [m.name for m in self.methods if not kinds or m.kind in kinds]

    def defaults(self, *kinds: AuditMethodKind) -> list[str]:
        """Names of the default methods of these kinds (every kind when none is given), in catalog order."""
        return [m.name for m in self.methods if m.default and (not kinds or m.kind in kinds)]


class ClaimGrade(BaseModel):
    """One labelled claim of a given response: where it lies, whether it is right, and its claim-level scores."""

    text: str
    start: int = Field(description="character offset in the item's answer where the claim starts")
    end: int = Field(description="character offset just past the claim (half-open)")
    correct: bool = Field(description="the dataset's label")
    scores: dict[str, Optional[float]] = Field(description=(
        "mean_neg_logprob / mean_token_entropy / max_token_entropy of its tokens (nats, higher = more uncertain), "
        "ccp and luq_support (higher = more confident) when the audit runs ccp / luq"))


class AuditItem(BaseModel):
    """One finished item: the question, the model's answer, its grading and every method's score."""

    index: int
    id: str
    question: str
    answers: list[str] = Field(description="accepted answers (aliases), or the true class name")
    answer: str = Field(description="what the model answered")
    correct: bool
    grading: Grading
    similarity: Optional[float] = Field(None, description="best cosine similarity to an alias (embedding fallback)")
    grading_reason: str = Field("", description="why the item was graded so, in one sentence (empty for items "
                                                "saved before reasons were kept)")
    override: Optional[bool] = Field(None, description="a person's verdict replacing the automatic one")
    scores: dict[str, Optional[float]]
    score_bounds: dict[str, list[float]] = Field(default_factory=dict, description=(
        "[lower, upper] of each score that is an estimate (a served model's token entropies, known from the "
        "top-k only within provably valid bounds); a score not listed here is exact"))
    probs: Optional[list[float]] = Field(None, description="class probabilities (image audits)")
    label: Optional[int] = Field(None, description="true class index (image audits)")
    difficulty: str = ""
    comparisons: Optional[dict[str, float]] = Field(None, description=(
        "relative confidence (question audits): partner question's index (a string, as JSON keys are) -> P(this "
        "question preferred) as the model judged the pair, both orders averaged; None for items kept without it"))
    token_logprobs: Optional[list[float]] = Field(None, description=(
        "log-probability (nats) of each answer token, as the token methods read them (question audits; None for "
        "items kept before they were, and for images): the token-level deferral rules of cascades use them"))
    claims: Optional[list[ClaimGrade]] = Field(None, description=(
        "the given response's labelled claims with their scores (datasets with claim labels; None otherwise): the "
        "item is right when every claim is"))

    @property
    def is_correct(self) -> bool:
        return self.correct if self.override is None else self.override


class MethodMetrics(BaseModel):
    """Calibration and error-detection numbers of one method over the audited items."""

    n: int
    higher_is: Literal["uncertain", "confident"]
    confidence_source: str = Field(description="how confidences for ECE / Brier / NLL were made")
    ece: Optional[float]
    mce: Optional[float]
    ace: Optional[float]
    brier: Optional[float]
    nll: Optional[float]
    classwise_ece: Optional[float] = Field(None, description="image audits: mean over classes of ECE(p_k)")
    multiclass_brier: Optional[float] = Field(None, description="image audits: mean sum_k (p_k - 1[y = k])^2")
    multiclass_nll: Optional[float] = Field(None, description="image audits: mean -ln p_y, nats")
    auroc: Optional[float]
    auprc: Optional[float]
    aurc: Optional[float]
    prr: Optional[float]
    temperature: Optional[float] = Field(None, description="fitted on the fit split (probability methods)")
    ece_eval_before: Optional[float] = None
    ece_eval_after: Optional[float] = None
    ci: dict[str, list[float]] = Field(default_factory=dict, description="95 % percentile-bootstrap interval "
                                       "[low, high] of each defined metric over the items (seeded resamples)")
    undefined: dict[str, str] = Field(default_factory=dict, description="why a metric is None, by metric name")
    warnings: list[str] = Field(default_factory=list, description="caveats: too few items, sparse bins, a "
                                                                  "recalibration that did not help")


class AuditResult(BaseModel):
    """A whole audit: settings, ids, accuracy, metrics per method and every item."""

    audit_id: str
    request: AuditRequest
    model_id: str = Field(description="the model that answered: the request's text model, the digits classifier, "
                                      "or '(precomputed)' for a file of given scores")
    dataset_id: str
    dataset_sha256: str
    n: int
    accuracy: float
    n_bins: int
    binning: str
    metrics: dict[str, MethodMetrics]
    rank_correlation: dict[str, dict[str, Optional[float]]] = Field(description="Spearman rho between methods")
    methods: list[AuditMethodInfo]
    items: list[AuditItem]
    created_at: str
    extra: dict[str, Any] = Field(default_factory=dict)
    selective: dict[str, SelectiveDecision] = Field(default_factory=dict, description=(
        "answer or abstain, by method: the threshold Learn-Then-Test certifies at request.alpha / request.delta on a "
        "seeded calibration split, its held-out coverage and error, the guarantee in words, or why none is given"))
    cascade: Optional[CascadeResult] = Field(None, description="deferral to request.defer_to (None without it)")
    n_claims: int = Field(0, description="labelled claims over the items (0: the dataset has no claim labels)")
    claim_accuracy: Optional[float] = Field(None, description="share of the labelled claims that are right")
    claim_metrics: dict[str, MethodMetrics] = Field(default_factory=dict, description=(
        "calibration and error-detection numbers of each claim-level score over the labelled claims, each claim "
        "one unit (backend.audit.claim_grading.CLAIM_SCORES)"))
    label_issues: Optional[LabelIssueReport] = Field(None, description=(
        "classifier audits: the items whose given label is likely wrong (Confident Learning), or why none were "
        "looked for; None for other audits"))


class AuditDatasetUpload(BaseModel):
    """A dataset file for audits: JSONL / CSV (questions and answers, or scores), or a zip of labelled images."""

    model_config = ConfigDict(extra="forbid", ser_json_bytes="base64", val_json_bytes="base64")

    filename: str = Field(min_length=1, max_length=255, description="its suffix (.jsonl, .csv, .zip) says the format")
    data: bytes = Field(description="the file's bytes (base64 in JSON)")

    @field_validator("data")
    @classmethod
    def _data_size(cls, value: bytes) -> bytes:
        if not value:
            raise ValueError("the uploaded file is empty")
        if len(value) > MAX_AUDIT_UPLOAD_BYTES:
            raise ValueError(f"the file is {len(value) / 2**20:.1f} MiB; upload at most "
                             f"{MAX_AUDIT_UPLOAD_BYTES // 2**20} MiB (split it)")
        return value


class UploadedAuditDataset(BaseModel):
    """A checked upload: the dataset name to audit it by (upload:...), what it holds and its content hash."""

    dataset: str
    filename: str
    kind: Literal["qa", "given", "images"]
    items: int
    sha256: str


class AuditProgress(BaseModel):
    """Where an audit stands: finished items of the total, and the seconds the last call computed for."""

    audit_id: str
    dataset_id: str
    total: int
    done: int
    computed: int = Field(0, description="items this call computed")
    seconds: float = Field(0.0, description="wall time of this call's computing, seconds")

    @computed_field
    @property
    def complete(self) -> bool:
        """Every item is done: stop calling the batch operation."""
        return self.done >= self.total


class AuditOverride(BaseModel):
    """A person's verdict on one finished item (None clears it, so the automatic grading counts again)."""

    model_config = ConfigDict(extra="forbid")

    audit_id: str = Field(pattern=AUDIT_ID_PATTERN)
    index: int = Field(ge=0, lt=MAX_AUDIT_ITEMS)
    verdict: Optional[bool]
