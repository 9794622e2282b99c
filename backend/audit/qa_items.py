"""The items of a question audit: each question's greedy answer scored by the token methods (on the answer's own
token numbers), the sequence methods (one analysis on that answer), the relative-confidence comparisons with its
partner questions (backend.decisions.relative_asking; ranked when the audit is summarised) and graded. A row that
gives its response is scored as given instead (given_item), and graded claim by claim when it labels its claims
(backend.audit.claim_grading).

An in-process model answers a batch of questions in one generate call (backend.audit.batch_text) under its pool
lock; a served model answers each question in its own request, request.concurrency of them in flight at once
(backend.audit.batch_served), each item handed back as it finishes so the runner keeps it at once.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional, Sequence

from backend.audit.batch_served import StopCheck, answer_question, bounded_map
from backend.audit.batch_text import AnsweredQuestion, answer_batch
from backend.audit.claim_grading import claim_grades, claims_verdict
from backend.audit.datasets import QAItem
from backend.audit.grading import Verdict, grade
from backend.audit.methods import AuditMethod, compares_pairs
from backend.analyses.evidence import required_evidence
from backend.decisions.relative_asking import audit_comparisons
from backend.engine import Engine
from backend.schemas import SequenceAnalysis, SequenceRequest, TextAnalysis, TextRequest
from backend.schemas.audit import AuditItem, AuditRequest, ClaimGrade
from backend.sequence.methods import METHODS

if TYPE_CHECKING:
    from backend.audit.runner import Plan

Embed = Callable[[list[str]], Any]


def grading_embedder(engine: Engine, request: AuditRequest) -> Embed:
    """The grading embedder's embed, run under its pool lock; loaded now, so a wrong id fails before any item is
    graded."""
    pool = engine.pool
    pool.embedding(request.embedding_model)

    def embed(texts: list[str]):
        with pool.using("embedding", request.embedding_model) as embedder:
            return embedder.embed(texts)

    return embed


def score_bounds(method: AuditMethod, result: AnsweredQuestion) -> Optional[list[float]]:
    """[lower, upper] of a token method's score when it is an estimate (its sequence entry's exact_requires: the
    entropy methods) and the answer's entropies are known only within bounds (a served model's top-k): the score
    of every token entropy at its lower and at its upper bound, valid because the mean and the max never decrease
    when an entropy grows. None when the score is exact."""
    if not (result.logprobs and result.entropy_bounds and METHODS.get(method.method).exact_requires):
        return None
    return [method.token_score(result.logprobs, [b[side] for b in result.entropy_bounds]) for side in (0, 1)]


def token_scores(plan: Plan, result: AnsweredQuestion) -> tuple[dict[str, Optional[float]], dict[str, list[float]]]:
    """(score, bounds of the estimated scores) of each token method on the answer's own token numbers."""
    scores: dict[str, Optional[float]] = {}
    bounds: dict[str, list[float]] = {}
    for method in plan.methods:
        if method.source == "token":
            scores[method.name] = method.token_score(result.logprobs, result.entropies) if result.logprobs else None
            bound = score_bounds(method, result)
            if bound is not None:
                bounds[method.name] = bound
    return scores, bounds


def sequence_analysis(engine: Engine, request: AuditRequest, plan: Plan, question: QAItem,
                      answer: str) -> Optional[SequenceAnalysis]:
    """One sequence analysis of the answer (given as the answer to score) with the audit's sequence methods, the
    dataset's labelled claims as the claim split when it has them; None when the audit has no sequence method."""
    names = [m.name for m in plan.methods if m.source == "sequence"]
    if not names:
        return None
    text = TextRequest(model=request.model, prompt=question.question, max_new_tokens=request.max_new_tokens,
                       answer=answer or None, seed=request.seed)
    claims = [c.text for c in question.claims] or None
    return engine.analyze_sequence(SequenceRequest(text=text, methods=names, samples=request.samples,
                                                   embedding_model=request.embedding_model, claims=claims))


def answered_from(text: TextAnalysis) -> AnsweredQuestion:
    """A scored answer's token numbers as the token methods read them (entropy bounds kept where estimated)."""
    tokens = text.tokens
    bounds = [tuple(t.entropy_bounds) for t in tokens] if tokens and all(t.entropy_bounds for t in tokens) else None
    return AnsweredQuestion(answer=text.generated_text, answer_ids=[t.id for t in tokens if t.id is not None],
                            logprobs=[t.logprob for t in tokens], entropies=[t.entropy for t in tokens],
                            entropy_bounds=bounds)


def qa_item(engine: Engine, request: AuditRequest, plan: Plan, index: int, result: AnsweredQuestion,
            embed: Embed, analysis: Optional[SequenceAnalysis] = None, claims: Optional[list[ClaimGrade]] = None
            ) -> AuditItem:
    """One QA item from its answer: the token methods scored on the answer's own token numbers (with the
    bounds of scores made from estimated entropies), the sequence methods by one analysis on the same answer
    text given as the answer to score (re-tokenised, so its ids can differ from the generated ones where a
    tokenizer is not round-trip stable; `analysis` when already made), then graded: per claim when `claims` (the
    labelled claims, scored), else against the accepted answers."""
    question = plan.dataset.qa[index]
    scores, bounds = token_scores(plan, result)
    if analysis is None:
        analysis = sequence_analysis(engine, request, plan, question, result.answer)
    if analysis is not None:
        scores.update({s.name: s.value for s in analysis.scores})
    comparisons = audit_comparisons(engine, request, plan, index) if compares_pairs(plan.methods) else None
    if claims:
        correct, reason = claims_verdict(claims)
        verdict = Verdict(correct=correct, grading="claims", reason=reason)
    else:
        verdict = grade(result.answer, question.answers, embed, request.grading_threshold, question.question)
    return AuditItem(index=index, id=question.id, question=question.question, answers=question.answers,
                     answer=result.answer, correct=verdict.correct, grading=verdict.grading,
                     grading_reason=verdict.reason, similarity=verdict.similarity, scores=scores,
                     score_bounds=bounds, difficulty=question.difficulty, token_logprobs=list(result.logprobs),
                     comparisons=comparisons, claims=claims)


def given_item(engine: Engine, request: AuditRequest, plan: Plan, index: int, embed: Embed) -> AuditItem:
    """A QA item whose dataset row gives the response: scored as given (one sequence analysis, or one scoring
    pass when the audit has no sequence method), its labelled claims graded one by one (claim_grades)."""
    question = plan.dataset.qa[index]
    analysis = sequence_analysis(engine, request, plan, question, question.response)
    if analysis is not None:
        text = analysis.text
    else:
        text = engine.analyze_text(TextRequest(model=request.model, prompt=question.question, answer=question.response,
                                               max_new_tokens=request.max_new_tokens, seed=request.seed))
    claims = claim_grades(text, question.claims, analysis.claims if analysis else ()) if question.claims else None
    return qa_item(engine, request, plan, index, answered_from(text), embed, analysis, claims)


def qa_batch(engine: Engine, request: AuditRequest, plan: Plan, indices: list[int]) -> list[AuditItem]:
    """Answer, score and grade the QA items at these indices with an in-process model: one batched generate
    under the model's pool lock (the token methods read its own logits), then each item (qa_item)."""
    asked = [i for i in indices if plan.dataset.qa[i].response is None]
    with engine.pool.using("text", request.model) as lm:
        answered = answer_batch(lm, [plan.dataset.qa[i].question for i in asked], request.max_new_tokens) if asked \
            else []
    embed = grading_embedder(engine, request)
    by_index = dict(zip(asked, answered))
    return [qa_item(engine, request, plan, index, by_index[index], embed) if index in by_index
            else given_item(engine, request, plan, index, embed) for index in indices]


def served_qa_items(engine: Engine, request: AuditRequest, plan: Plan, indices: Sequence[int],
                    should_stop: Optional[StopCheck] = None) -> Iterator[AuditItem]:
    """The QA items at these indices through a served model's engine, each yielded as it finishes: one chat
    request per question and its sequence analysis (qa_item), at most request.concurrency items in flight
    (backend.audit.batch_served.bounded_map: none started once should_stop() says so or one failed)."""
    lm = engine.pool.text(request.model)
    embed = grading_embedder(engine, request)

    def one(index: int) -> AuditItem:
        if plan.dataset.qa[index].response is not None:
            return given_item(engine, request, plan, index, embed)
        answered = answer_question(lm, plan.dataset.qa[index].question, request.max_new_tokens, request.seed)
        return qa_item(engine, request, plan, index, answered, embed)

    return bounded_map(one, indices, request.concurrency, should_stop)


def short_sample_warnings(plan: "Plan", request: AuditRequest, items: Sequence[AuditItem]) -> dict[str, str]:
    """{method name: caveat} for the audit's sample-reading sequence methods when a row's given response is longer
    (in tokens) than the samples may run (request.max_new_tokens): such samples stop before the response's later
    claims, so they cannot support them. Empty when no given response is longer."""
    longer = [len(item.token_logprobs) for item in items
              if plan.dataset.qa[item.index].response and len(item.token_logprobs) > request.max_new_tokens]
    if not longer:
        return {}
    caveat = (f"the samples stop at max_new_tokens = {request.max_new_tokens} tokens while {len(longer)} given "
              f"response(s) run longer (up to {max(longer)} tokens), so the samples cannot support their later "
              f"parts; raise Max new tokens (at most 128) for long responses")
    return {m.name: caveat for m in plan.methods if m.source == "sequence"
            and "samples" in required_evidence(set(METHODS.get(m.method or m.name).needs), "")}
