"""Run an audit: batch over the items, keep every finished batch, resume a stopped run, summarise.

The audit id is a hash of the request (all but its limit and concurrency) and the dataset's bytes, so running
the same audit again (after a crash, a kill, a cancel or an engine gone away, or with a larger limit) finds the
finished items in the store and computes only the rest.

Two ways to drive it: run_audit loops over every pending batch in one call (the command line); start_audit,
next_batch and summarize_audit do one step each (the clients: over HTTP every batch is its own short request, so
progress, Stop and resume work the same in-process and remote). A question audit of a served model has no
batches: request.concurrency requests stay in flight and each item is kept (in small groups) as it finishes, so an
engine that goes away loses only the requests in flight; the run then ends with an error naming the engine and
the items kept.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Callable, Iterator, Optional, Sequence

from backend.audit import digits as digits_data
from backend.audit import summary
from backend.audit.claim_grading import claim_summary
from backend.audit.batch_served import StopCheck
from backend.audit.cascade_run import with_cascade
from backend.audit.datasets import Dataset, load_dataset
from backend.audit.image_audit import audit_classes, image_items
from backend.audit.label_issues_audit import audit_label_issues
from backend.audit.methods import (AuditMethod, cannot_run, compares_pairs, given_method,
                                   resolve_classifier_methods, resolve_text_methods)
from backend.audit.qa_items import qa_batch, served_qa_items, short_sample_warnings
from backend.audit.selective import audit_decisions
from backend.audit.store import AuditStore
from backend.decisions import relative_confidence as relative
from backend.engine import Engine
from backend.errors import BackendBusyError, BackendUnavailableError, StoreUnavailableError, UserInputError
from backend.schemas.audit import AuditItem, AuditProgress, AuditRequest, AuditResult

Progress = Callable[[int, int, Optional[float]], None]
IMAGE_CLASS_NOTE = ("class probabilities: the dataset's classes plus one column holding the mass of every other "
                    "class of the model; class-wise ECE averages the classes that occur as true labels")


@dataclass(frozen=True)
class Plan:
    """What one audit will run: the dataset, its id, how many items, and the methods."""

    dataset: Dataset
    audit_id: str
    total: int
    methods: list[AuditMethod]


NOT_IDENTITY = frozenset({"limit", "concurrency", "defer_to", "alpha", "delta", "calibration_fraction"})
"""Request fields that do not name the audit: how many items to compute, how many requests in flight, which model
to defer to (a cascade reads that model's own audit; this one's items do not change), and the answer-or-abstain
settings (alpha, delta, calibration fraction: read from the finished items, they change none)."""


def audit_id_for(request: AuditRequest, dataset_sha256: str) -> str:
    """16 hex digits of SHA-256 over the request JSON without its limit and concurrency, and the dataset's hash.

    The limit is left out because it picks how many of the items to compute, not how an item is computed: an
    audit of the first 44 items reuses the 20 an audit of the first 20 finished (and a smaller limit shows the
    first N of those kept). The concurrency only says how many requests a served model gets at once."""
    return hashlib.sha256(f"{request.model_dump_json(exclude=NOT_IDENTITY)}|{dataset_sha256}".encode()
                          ).hexdigest()[:16]


def legacy_audit_id(request: AuditRequest, dataset_sha256: str) -> str:
    """The audit id runs were kept under before the limit left the identity (the whole request JSON hashed, as it
    was then: without the concurrency, defer_to and the answer-or-abstain settings, which came later)."""
    later = {'concurrency', 'defer_to', 'alpha', 'delta', 'calibration_fraction'}
    return hashlib.sha256(f"{request.model_dump_json(exclude=later)}|{dataset_sha256}".encode()).hexdigest()[:16]


def adopt_earlier_runs(plan: Plan, request: AuditRequest, store: AuditStore) -> None:
    """Move the items of runs kept under a legacy id (the same request at any limit, the same dataset bytes)
    under this plan's id, once, so audits kept before the limit left the identity stay readable and resume."""
    if store.created_at(plan.audit_id) is not None:
        return
    settings = request.model_dump(exclude=NOT_IDENTITY)
    for audit_id, request_json in store.runs_of(plan.dataset.dataset_id):
        try:
            earlier = AuditRequest.model_validate_json(request_json)
        except ValueError:
            continue
        if earlier.model_dump(exclude=NOT_IDENTITY) == settings and \
                legacy_audit_id(earlier, plan.dataset.sha256) == audit_id:
            store.move_run(audit_id, plan.audit_id)


def open_run(plan: Plan, request: AuditRequest, store: AuditStore) -> str:
    """Record the run (adopting legacy runs of the same audit first); returns its creation time (UTC ISO)."""
    adopt_earlier_runs(plan, request, store)
    return store.start(plan.audit_id, request, plan.dataset.dataset_id, plan.total)


def plan_audit(request: AuditRequest, content: Optional[bytes] = None) -> Plan:
    """Load and check everything before any model runs; UserInputError says what to change."""
    dataset = load_dataset(request.dataset, content)
    relative.check_comparable(request.methods, dataset.kind)
    if dataset.kind == "qa":
        methods, size = resolve_text_methods(request.methods), len(dataset.qa)
    elif dataset.kind == "digits":
        methods, size = resolve_classifier_methods(request.methods), digits_data.test_size()
    elif dataset.kind == "images":
        methods, size = resolve_classifier_methods(request.methods, with_passes=True), len(dataset)
    else:
        columns = dataset.given_directions
        missing = [m for m in request.methods if m not in columns]
        if missing:
            raise UserInputError(f"{', '.join(missing)}: no such column in the file; it has: {', '.join(columns)}")
        methods = [given_method(m, columns[m], [g.scores[m] for g in dataset.given]) for m in request.methods]
        size = len(dataset.given)
    total = min(size, request.limit or size)
    relative.check_comparable(request.methods, dataset.kind, total)
    return Plan(dataset, audit_id_for(request, dataset.sha256), total, methods)


def _given_batch(plan: Plan, indices: list[int]) -> list[AuditItem]:
    """Items straight from a precomputed file (no model run)."""
    rows = [plan.dataset.given[i] for i in indices]
    return [AuditItem(index=i, id=row.id, question=row.question, answers=[], answer="", correct=row.correct,
                      grading="given", scores={m.name: row.scores[m.name] for m in plan.methods})
            for i, row in zip(indices, rows)]


def _digits_batch(engine: Engine, plan: Plan, indices: list[int]) -> list[AuditItem]:
    """Classify held-out digits images and score them with the classifier methods."""
    model = digits_data.digits_model(engine.cache_dir)
    probs, labels = digits_data.classify(model, indices)
    items = []
    for index, p, label in zip(indices, probs, labels):
        predicted = int(p.argmax())
        items.append(AuditItem(index=index, id=f"digit-{index}", question=f"held-out digit image #{index}",
                               answers=[str(label)], answer=str(predicted), correct=predicted == label,
                               grading="label", scores={m.name: m.class_score(p) for m in plan.methods},
                               probs=p.tolist(), label=int(label)))
    return items


def _image_batch(engine: Engine, request: AuditRequest, plan: Plan, indices: list[int]) -> list[AuditItem]:
    """Classify labelled images with the request's registered image model (from the engine's pool, under its
    lock) and score them."""
    with engine.pool.using("image", request.model) as lm:
        return image_items(lm, plan.dataset.images, audit_classes(lm, plan.dataset.images), plan.methods, indices,
                           passes=request.samples, seed=request.seed)


def run_batch(engine: Engine, request: AuditRequest, plan: Plan, indices: list[int]) -> list[AuditItem]:
    """One batch of finished items, whatever the dataset kind."""
    if plan.dataset.kind == "qa":
        return qa_batch(engine, request, plan, indices)
    if plan.dataset.kind == "digits":
        return _digits_batch(engine, plan, indices)
    if plan.dataset.kind == "images":
        return _image_batch(engine, request, plan, indices)
    return _given_batch(plan, indices)


def check_methods(engine: Engine, request: AuditRequest, plan: Plan) -> None:
    """Refuse, before anything runs, the methods the audit's text model cannot give (a served model has no full
    distribution, ...): a UserInputError naming each with the reason."""
    capabilities = engine.pool.registry.get(request.model).capabilities
    if any(q.response is not None for q in plan.dataset.qa) and "score_given_answer" not in capabilities:
        raise UserInputError(f"{request.model!r} cannot score a given response (the dataset's 'response'); pick a "
                             f"model loaded in UQ Lens's process or served by vLLM")
    refused = [f"{m.name} ({reason})" for m in plan.methods for reason in [cannot_run(m, capabilities)] if reason]
    if refused:
        raise UserInputError(f"{request.model!r} cannot give {', '.join(refused)}; leave "
                             f"{'it' if len(refused) == 1 else 'them'} out or pick a model loaded in UQ Lens's "
                             f"process")


def check_models(engine: Engine, request: AuditRequest, plan: Plan) -> None:
    """Load the model an audit needs and check that it fits the data (an image model knows every class folder)
    and the methods (check_methods), so that a wrong model id, label or method fails before anything is
    computed."""
    if plan.dataset.kind == "qa":
        engine.pool.text(request.model)
        check_methods(engine, request, plan)
    elif plan.dataset.kind == "images":
        audit_classes(engine.pool.image(request.model), plan.dataset.images)


def progress_of(plan: Plan, store: AuditStore, computed: int = 0, seconds: float = 0.0) -> AuditProgress:
    """Where the planned audit stands in the store: its first plan.total items (a run with a larger limit may
    have kept more)."""
    done = sum(1 for index in store.finished_indices(plan.audit_id) if index < plan.total)
    return AuditProgress(audit_id=plan.audit_id, dataset_id=plan.dataset.dataset_id, total=plan.total, done=done,
                         computed=computed, seconds=seconds)


def start_audit(request: AuditRequest, engine: Engine, store: AuditStore) -> AuditProgress:
    """Check the request, its data and its model, and record the run (a started run keeps its items)."""
    plan = plan_audit(request)
    check_models(engine, request, plan)
    open_run(plan, request, store)
    return progress_of(plan, store)


def is_served(engine: Optional[Engine], request: AuditRequest, plan: Plan) -> bool:
    """Whether the audit's questions go to a model behind a serving engine (its items then stream in as they
    finish, request.concurrency at a time)."""
    return plan.dataset.kind == "qa" and engine is not None and engine.pool.is_served(request.model)


def step_size(engine: Optional[Engine], request: AuditRequest, plan: Plan) -> int:
    """Items one next_batch call computes: batch_size, or for a served model at least concurrency (so a step can
    keep that many requests in flight)."""
    return max(request.batch_size, request.concurrency) if is_served(engine, request, plan) else request.batch_size


def keep_as_finished(store: AuditStore, plan: Plan, items: Iterator[AuditItem], group: int,
                     kept: Optional[Callable[[int], None]] = None) -> int:
    """Keep the items an iterator yields as they finish, `group` per transaction (and whatever is finished when it
    ends or fails, before the failure goes on); kept(count so far) after each group. Returns how many were kept."""
    count, finished = 0, []

    def flush() -> None:
        nonlocal count, finished
        if finished:
            store.save_items(plan.audit_id, finished)
            count, finished = count + len(finished), []
            if kept:
                kept(count)

    try:
        for item in items:
            finished.append(item)
            if len(finished) >= group:
                flush()
    finally:
        flush()
    return count


def engine_stopped(exc: Exception, request: AuditRequest, plan: Plan, store: AuditStore) -> Exception:
    """The error of an audit whose engine went away (or kept refusing) mid-run: the engine's own message, how
    many items are kept, and that running the same audit again resumes; of the same type, so the service
    still answers 503 (or 429 with Retry-After)."""
    done = progress_of(plan, store).done
    message = (f"{exc}. The audit of {request.model!r} stopped: {done} of {plan.total} items are kept (only the "
               f"requests in flight were lost); run the same audit again to resume from there")
    if isinstance(exc, BackendBusyError):
        return BackendBusyError(message, exc.retry_after_s)
    return BackendUnavailableError(message)


def compute_served(engine: Engine, request: AuditRequest, plan: Plan, store: AuditStore, indices: Sequence[int],
                   kept: Optional[Callable[[int], None]] = None, should_stop: Optional[StopCheck] = None) -> int:
    """Compute and keep the items at these indices through the engine (served_qa_items, kept in groups of
    min(batch_size, concurrency) as they finish); returns how many were kept. An engine that goes away ends
    it with engine_stopped's error, everything finished kept."""
    group = min(request.batch_size, request.concurrency)
    try:
        return keep_as_finished(store, plan, served_qa_items(engine, request, plan, indices, should_stop), group,
                                kept)
    except (BackendUnavailableError, BackendBusyError) as exc:
        if isinstance(exc, StoreUnavailableError):
            raise
        raise engine_stopped(exc, request, plan, store) from None


def next_batch(request: AuditRequest, engine: Optional[Engine], store: AuditStore) -> AuditProgress:
    """Compute and keep the next pending items (none when the audit is complete): request.batch_size of them,
    or for a served model step_size's, request.concurrency in flight and kept as they finish."""
    plan = plan_audit(request)
    open_run(plan, request, store)
    batch = sorted(set(range(plan.total)) - store.finished_indices(plan.audit_id))[:step_size(engine, request, plan)]
    started = time.perf_counter()
    if batch and is_served(engine, request, plan):
        check_methods(engine, request, plan)
        compute_served(engine, request, plan, store, batch)
    elif batch:
        store.save_items(plan.audit_id, run_batch(engine, request, plan, batch))
    return progress_of(plan, store, len(batch), time.perf_counter() - started)


def summarize_audit(request: AuditRequest, store: AuditStore) -> AuditResult:
    """The result of the items kept so far (nothing is computed; an audit never started has no items)."""
    plan = plan_audit(request)
    adopt_earlier_runs(plan, request, store)
    return with_cascade(build_result(plan, request, store.items(plan.audit_id), store.created_at(plan.audit_id) or ""),
                        store)


def run_audit(request: AuditRequest, engine: Optional[Engine], store: AuditStore, *, content: Optional[bytes] = None,
              progress: Optional[Progress] = None, should_stop: Optional[StopCheck] = None) -> AuditResult:
    """Compute the items not yet kept, batch by batch (each batch kept before the next starts), then summarise.
    A served model's items are computed request.concurrency at a time and kept as they finish (compute_served).

    engine may be None for a precomputed file, or to summarise what is kept without computing (should_stop=True).

    progress(done, total, seconds left or None) is called after each batch (each group kept); should_stop() is
    checked before each batch (each request) and ends the run early, everything finished so far kept (the result
    then has extra["complete"] False).
    """
    plan = plan_audit(request, content)
    created_at = open_run(plan, request, store)
    pending = sorted(set(range(plan.total)) - store.finished_indices(plan.audit_id))
    done, started = plan.total - len(pending), time.perf_counter()
    if progress:
        progress(done, plan.total, None)

    def kept(computed: int) -> None:
        if progress:
            rate = (time.perf_counter() - started) / computed
            progress(done + computed, plan.total, rate * (len(pending) - computed))

    if pending and is_served(engine, request, plan):
        check_methods(engine, request, plan)
        compute_served(engine, request, plan, store, pending, kept, should_stop)
        return with_cascade(build_result(plan, request, store.items(plan.audit_id), created_at), store)
    computed = 0
    for start in range(0, len(pending), request.batch_size):
        if should_stop is not None and should_stop():
            break
        batch = pending[start:start + request.batch_size]
        store.save_items(plan.audit_id, run_batch(engine, request, plan, batch))
        computed += len(batch)
        kept(computed)
    return with_cascade(build_result(plan, request, store.items(plan.audit_id), created_at), store)


def answering_model(kind: str, request: AuditRequest) -> str:
    """Who answered an audit of this dataset kind: the request's model, the digits classifier, or '(precomputed)'
    for a file of given scores."""
    return {"digits": digits_data.MODEL_ID, "given": "(precomputed)"}.get(kind, request.model)


def build_result(plan: Plan, request: AuditRequest, items: Sequence[AuditItem], created_at: str) -> AuditResult:
    """The AuditResult of the items finished so far among the plan's first plan.total (items kept by a run with
    a larger limit are left out)."""
    items = [item for item in items if item.index < plan.total]
    names = [m.name for m in plan.methods]
    ranked = compares_pairs(plan.methods)
    if ranked:
        items = relative.with_relative_scores(items)  # so made here, never kept with an item
    kind = plan.dataset.kind
    model_id = answering_model(kind, request)
    notes = {"class_probabilities": IMAGE_CLASS_NOTE} if kind == "images" else {}
    if ranked:
        notes[relative.METHOD] = relative.result_note(items)
    n_claims, claim_accuracy, claim_metrics = claim_summary(items, request.seed)
    metrics = {m.name: summary.method_metrics(m, items, request.seed) for m in plan.methods} if items else {}
    if kind == "qa":
        for name, caveat in short_sample_warnings(plan, request, items).items():
            metrics[name].warnings.append(caveat)
    return AuditResult(
        audit_id=plan.audit_id, request=request, model_id=model_id, dataset_id=plan.dataset.dataset_id,
        dataset_sha256=plan.dataset.sha256, n=len(items), accuracy=summary.accuracy(items), n_bins=summary.N_BINS,
        binning=f"{summary.N_BINS} equal-width bins [k/M, (k+1)/M), the last closed at 1; ACE: equal-mass bins",
        metrics=metrics,
        rank_correlation=summary.rank_correlations(items, names), methods=[m.info() for m in plan.methods],
        items=list(items), created_at=created_at,
        label_issues=audit_label_issues(plan.dataset, items), n_claims=n_claims, claim_accuracy=claim_accuracy,
        claim_metrics=claim_metrics,
        selective=audit_decisions(plan.methods, items, request) if items else {},
        extra={"complete": len(items) == plan.total, "total": plan.total, **notes})
