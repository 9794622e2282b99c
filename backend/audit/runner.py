"""Run an audit: batch over the items, keep every finished batch, resume a stopped run, summarise.

The audit id is a hash of the request (all but its limit) and the dataset's bytes, so running the same audit
again (after a crash, a kill or a cancel, or with a larger limit) finds the finished items in the store and
computes only the rest.

Two ways to drive it: run_audit loops over every pending batch in one call (the command line); start_audit,
next_batch and summarize_audit do one step each (the clients: over HTTP every batch is its own short request, so
progress, Stop and resume work the same in-process and remote).
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

from backend.audit import digits as digits_data
from backend.audit import summary
from backend.audit.batch_text import answer_batch
from backend.audit.datasets import Dataset, load_dataset
from backend.audit.grading import grade
from backend.audit.image_audit import audit_classes, image_items
from backend.audit.methods import AuditMethod, given_method, resolve_classifier_methods, resolve_text_methods
from backend.audit.store import AuditStore
from backend.engine import Engine
from backend.errors import UserInputError
from backend.schemas import SequenceRequest, TextRequest
from backend.schemas.audit import AuditItem, AuditProgress, AuditRequest, AuditResult

Progress = Callable[[int, int, Optional[float]], None]
StopCheck = Callable[[], bool]
IMAGE_CLASS_NOTE = ("class probabilities: the dataset's classes plus one column holding the mass of every other "
                    "class of the model; class-wise ECE averages the classes that occur as true labels")


@dataclass(frozen=True)
class Plan:
    """What one audit will run: the dataset, its id, how many items, and the methods."""

    dataset: Dataset
    audit_id: str
    total: int
    methods: list[AuditMethod]


NOT_IDENTITY = frozenset({"limit", "concurrency"})
"""Request fields that do not name the audit: how many items to compute, how many requests in flight."""


def audit_id_for(request: AuditRequest, dataset_sha256: str) -> str:
    """16 hex digits of SHA-256 over the request JSON without its limit and concurrency, and the dataset's hash.

    The limit is left out because it picks how many of the items to compute, not how an item is computed: an
    audit of the first 44 items reuses the 20 an audit of the first 20 finished (and a smaller limit shows the
    first N of those kept). The concurrency only says how many requests a served model gets at once."""
    return hashlib.sha256(f"{request.model_dump_json(exclude=NOT_IDENTITY)}|{dataset_sha256}".encode()
                          ).hexdigest()[:16]


def legacy_audit_id(request: AuditRequest, dataset_sha256: str) -> str:
    """The audit id runs were kept under before the limit left the identity (the whole request JSON hashed, as it
    was then: without the concurrency, which came later)."""
    return hashlib.sha256(f"{request.model_dump_json(exclude={'concurrency'})}|{dataset_sha256}".encode()
                          ).hexdigest()[:16]


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
    return Plan(dataset, audit_id_for(request, dataset.sha256), total, methods)


def _qa_batch(engine: Engine, request: AuditRequest, plan: Plan, indices: list[int]) -> list[AuditItem]:
    """Answer, score and grade the QA items at these indices.

    Token methods come from the batched greedy answers. Sequence methods (sampling, asking) run one analysis per
    item on the same answer text given as the answer to score (re-tokenised, so its ids can differ from the
    generated ones where a tokenizer is not round-trip stable). Models and their locks come from the engine's
    pool; the grading embedder is loaded before any item is graded, so a wrong id fails whatever the answers."""
    questions = [plan.dataset.qa[i] for i in indices]
    pool = engine.pool
    with pool.using("text", request.model) as lm:
        answered = answer_batch(lm, [q.question for q in questions], request.max_new_tokens)
    pool.embedding(request.embedding_model)

    def embed(texts: list[str]):
        with pool.using("embedding", request.embedding_model) as embedder:
            return embedder.embed(texts)

    sequence_names = [m.name for m in plan.methods if m.source == "sequence"]
    items = []
    for index, question, result in zip(indices, questions, answered):
        scores: dict[str, Optional[float]] = {}
        for method in plan.methods:
            if method.source == "token":
                scores[method.name] = method.token_score(result.logprobs, result.entropies) if result.logprobs else None
        if sequence_names:
            text = TextRequest(model=request.model, prompt=question.question, max_new_tokens=request.max_new_tokens,
                               answer=result.answer or None, seed=request.seed)
            analysis = engine.analyze_sequence(SequenceRequest(text=text, methods=sequence_names,
                                                               samples=request.samples,
                                                               embedding_model=request.embedding_model))
            scores.update({s.name: s.value for s in analysis.scores})
        verdict = grade(result.answer, question.answers, embed, request.grading_threshold, question.question)
        items.append(AuditItem(index=index, id=question.id, question=question.question, answers=question.answers,
                               answer=result.answer, correct=verdict.correct, grading=verdict.grading,
                               grading_reason=verdict.reason, similarity=verdict.similarity, scores=scores,
                               difficulty=question.difficulty))
    return items


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
        return _qa_batch(engine, request, plan, indices)
    if plan.dataset.kind == "digits":
        return _digits_batch(engine, plan, indices)
    if plan.dataset.kind == "images":
        return _image_batch(engine, request, plan, indices)
    return _given_batch(plan, indices)


def check_models(engine: Engine, request: AuditRequest, plan: Plan) -> None:
    """Load the model an audit needs and check that it fits the data (an image model knows every class folder),
    so that a wrong model id or label fails before anything is computed."""
    if plan.dataset.kind == "qa":
        engine.pool.text(request.model)
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


def next_batch(request: AuditRequest, engine: Optional[Engine], store: AuditStore) -> AuditProgress:
    """Compute and keep the next request.batch_size pending items (none when the audit is complete)."""
    plan = plan_audit(request)
    open_run(plan, request, store)
    batch = sorted(set(range(plan.total)) - store.finished_indices(plan.audit_id))[:request.batch_size]
    started = time.perf_counter()
    if batch:
        store.save_items(plan.audit_id, run_batch(engine, request, plan, batch))
    return progress_of(plan, store, len(batch), time.perf_counter() - started)


def summarize_audit(request: AuditRequest, store: AuditStore) -> AuditResult:
    """The result of the items kept so far (nothing is computed; an audit never started has no items)."""
    plan = plan_audit(request)
    adopt_earlier_runs(plan, request, store)
    return build_result(plan, request, store.items(plan.audit_id), store.created_at(plan.audit_id) or "")


def run_audit(request: AuditRequest, engine: Optional[Engine], store: AuditStore, *, content: Optional[bytes] = None,
              progress: Optional[Progress] = None, should_stop: Optional[StopCheck] = None) -> AuditResult:
    """Compute the items not yet kept, batch by batch (each batch kept before the next starts), then summarise.

    engine may be None for a precomputed file, or to summarise what is kept without computing (should_stop=True).

    progress(done, total, seconds left or None) is called after each batch; should_stop() is checked before each
    batch and ends the run early, everything finished so far kept (the result then has extra["complete"] False).
    """
    plan = plan_audit(request, content)
    created_at = open_run(plan, request, store)
    pending = sorted(set(range(plan.total)) - store.finished_indices(plan.audit_id))
    done, started = plan.total - len(pending), time.perf_counter()
    if progress:
        progress(done, plan.total, None)
    computed = 0
    for start in range(0, len(pending), request.batch_size):
        if should_stop is not None and should_stop():
            break
        batch = pending[start:start + request.batch_size]
        store.save_items(plan.audit_id, run_batch(engine, request, plan, batch))
        computed += len(batch)
        if progress:
            rate = (time.perf_counter() - started) / computed
            progress(done + computed, plan.total, rate * (len(pending) - computed))
    return build_result(plan, request, store.items(plan.audit_id), created_at)


def build_result(plan: Plan, request: AuditRequest, items: Sequence[AuditItem], created_at: str) -> AuditResult:
    """The AuditResult of the items finished so far among the plan's first plan.total (items kept by a run with
    a larger limit are left out)."""
    items = [item for item in items if item.index < plan.total]
    names = [m.name for m in plan.methods]
    kind = plan.dataset.kind
    model_id = {"digits": digits_data.MODEL_ID, "given": "(precomputed)"}.get(kind, request.model)
    notes = {"class_probabilities": IMAGE_CLASS_NOTE} if kind == "images" else {}
    return AuditResult(
        audit_id=plan.audit_id, request=request, model_id=model_id, dataset_id=plan.dataset.dataset_id,
        dataset_sha256=plan.dataset.sha256, n=len(items), accuracy=summary.accuracy(items), n_bins=summary.N_BINS,
        binning=f"{summary.N_BINS} equal-width bins [k/M, (k+1)/M), the last closed at 1; ACE: equal-mass bins",
        metrics={m.name: summary.method_metrics(m, items, request.seed) for m in plan.methods} if items else {},
        rank_correlation=summary.rank_correlations(items, names), methods=[m.info() for m in plan.methods],
        items=list(items), created_at=created_at,
        extra={"complete": len(items) == plan.total, "total": plan.total, **notes})
