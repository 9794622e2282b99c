"""Run an audit: batch over the items, keep every finished batch, resume a stopped run, summarise.

The audit id is a hash of the request and the dataset's bytes, so running the same audit again (after a crash, a
kill or a cancel) finds the finished items in the store and computes only the rest.
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
from backend.audit.methods import (AuditMethod, given_method, resolve_classifier_methods, resolve_text_methods)
from backend.audit.store import AuditStore
from backend.engine import Engine
from backend.errors import UserInputError
from backend.schemas import SequenceRequest, TextRequest
from backend.schemas.audit import AuditItem, AuditRequest, AuditResult

Progress = Callable[[int, int, Optional[float]], None]
StopCheck = Callable[[], bool]


@dataclass(frozen=True)
class Plan:
    """What one audit will run: the dataset, its id, how many items, and the methods."""

    dataset: Dataset
    audit_id: str
    total: int
    methods: list[AuditMethod]


def audit_id_for(request: AuditRequest, dataset_sha256: str) -> str:
    """16 hex digits of SHA-256 over the request JSON and the dataset's hash."""
    return hashlib.sha256(f"{request.model_dump_json()}|{dataset_sha256}".encode()).hexdigest()[:16]


def plan_audit(request: AuditRequest, content: Optional[bytes] = None) -> Plan:
    """Load and check everything before any model runs; UserInputError says what to change."""
    dataset = load_dataset(request.dataset, content)
    if dataset.kind == "qa":
        methods, size = resolve_text_methods(request.methods), len(dataset.qa)
    elif dataset.kind == "digits":
        methods, size = resolve_classifier_methods(request.methods), digits_data.test_size()
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
    generated ones where a tokenizer is not round-trip stable)."""
    questions = [plan.dataset.qa[i] for i in indices]
    lm = engine.text_model(request.model)
    with engine.model_lock(request.model):
        answered = answer_batch(lm, [q.question for q in questions], request.max_new_tokens)
    embedder = engine.embedding_model(request.embedding_model)

    def embed(texts: list[str]):
        with engine.model_lock(request.embedding_model):
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
        verdict = grade(result.answer, question.answers, embed, request.grading_threshold)
        items.append(AuditItem(index=index, id=question.id, question=question.question, answers=question.answers,
                               answer=result.answer, correct=verdict.correct, grading=verdict.grading,
                               similarity=verdict.similarity, scores=scores, difficulty=question.difficulty))
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


def run_batch(engine: Engine, request: AuditRequest, plan: Plan, indices: list[int]) -> list[AuditItem]:
    """One batch of finished items, whatever the dataset kind."""
    if plan.dataset.kind == "qa":
        return _qa_batch(engine, request, plan, indices)
    if plan.dataset.kind == "digits":
        return _digits_batch(engine, plan, indices)
    return _given_batch(plan, indices)


def run_audit(request: AuditRequest, engine: Optional[Engine], store: AuditStore, *, content: Optional[bytes] = None,
              progress: Optional[Progress] = None, should_stop: Optional[StopCheck] = None) -> AuditResult:
    """Compute the items not yet kept, batch by batch (each batch kept before the next starts), then summarise.

    engine may be None for a precomputed file, or to summarise what is kept without computing (should_stop=True).

    progress(done, total, seconds left or None) is called after each batch; should_stop() is checked before each
    batch and ends the run early, everything finished so far kept (the result then has extra["complete"] False).
    """
    plan = plan_audit(request, content)
    created_at = store.start(plan.audit_id, request, plan.dataset.dataset_id, plan.total)
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
    """The AuditResult of the items finished so far."""
    names = [m.name for m in plan.methods]
    model_id = {"qa": request.model, "digits": digits_data.MODEL_ID, "given": "(precomputed)"}[plan.dataset.kind]
    return AuditResult(
        audit_id=plan.audit_id, request=request, model_id=model_id, dataset_id=plan.dataset.dataset_id,
        dataset_sha256=plan.dataset.sha256, n=len(items), accuracy=summary.accuracy(items), n_bins=summary.N_BINS,
        binning=f"{summary.N_BINS} equal-width bins [k/M, (k+1)/M), the last closed at 1; ACE: equal-mass bins",
        metrics={m.name: summary.method_metrics(m, items, request.seed) for m in plan.methods} if items else {},
        rank_correlation=summary.rank_correlations(items, names), methods=[m.info() for m in plan.methods],
        items=list(items), created_at=created_at, extra={"complete": len(items) == plan.total, "total": plan.total})
