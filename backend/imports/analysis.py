"""An imported log shown and scored like a generated answer, with no language model loaded.

Responses are grouped by the prompt their lines give (lines without one stand alone); a group's first answer is
analysed token by token as the served path analyses a server's answer (backend.served.text_analysis.token_score:
probability, log-probability and top alternatives as logged, rank counted among them, entropy the midpoint of the
provably valid bounds of backend.analyses.topk_entropy), and its other answers (more lines with the same prompt, or
n > 1 choices) are its samples. The sequence methods then run on the logged numbers through the Sequence page's own
selection, scoring and assembly (backend.sequence.pipeline): the generation methods on the analysed answer, the
sample methods when a group has at least two answers, the embedding methods (TokenSAR, meaning, Semantic Volume)
with UQ Lens's embedding / NLI models. Methods that need the model itself (the full distribution, asking it) are
left out with the reason. A group whose line gives a reference is graded (backend.audit.grading) and the graded
groups audited: accuracy and each method's error-detection AUROC.

The vocabulary size V is not in a log: the entropy upper bound grows with V and the lower bound does not depend on
it, so a V at least the model's keeps both valid; without one, DEFAULT_VOCAB_SIZE is used (looser bounds, and the
ln V normalisations read smaller). Log-probabilities are as the server logged them (OpenAI's API and vLLM's
default mode: before temperature).
"""
from __future__ import annotations

import time
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Optional

from backend.analyses import evidence as ev
from backend.analyses.error_detection import error_auroc
from backend.audit.grading import grade
from backend.errors import UserInputError
from backend.imports.limits import DEFAULT_VOCAB_SIZE
from backend.imports.parse import ParsedChoice, ParsedResponse, parse_log
from backend.schemas.imports import ImportAudit, ImportedGroup, ImportRequest, ImportResult, MethodAudit
from backend.schemas import SequenceAnalysis, SequenceRequest, SequenceScore, TextAnalysis, TextRequest
from backend.schemas.sequence import MAX_SAMPLES, why_not
from backend.sequence.evidence import group_similarities, removal_texts_from_pieces
from backend.sequence.method_spec import MethodSpec, value_bounds
from backend.sequence.pipeline import (GATHERERS, SequenceModels, SequenceRun, assemble, needed_evidence, score_method,
                                       selected_methods)
from backend.sequence.sampling import Sample
from backend.served.text_analysis import STOP_REASONS, exactness, token_score
from backend.text.summaries import summary_scores

CAPABILITIES = ("token_logprobs",)  # what a log gives: each answer token's log-probability and top alternatives
NO_MODEL = "needs the model to be asked about its answer; an imported log has no model to ask"
FEW_SAMPLES = "needs at least 2 answers to the same prompt (lines with the same prompt, or n > 1 choices)"
DEVICE = "imported log (no model run)"


@dataclass(frozen=True)
class Answer:
    """One logged answer and where it is in the file."""

    source: str
    response: ParsedResponse
    choice: ParsedChoice


def group_answers(responses: list[ParsedResponse]) -> list[list[Answer]]:
    """Answers grouped by prompt, in file order: a response's choices belong together; responses whose lines give
    the same prompt join one group; a response without a prompt is a group of its own."""
    groups: list[list[Answer]] = []
    by_prompt: dict[str, list[Answer]] = {}
    for response in responses:
        answers = [Answer(f"{response.label}, choices[{i}]", response, c) for i, c in enumerate(response.choices)]
        if response.prompt is not None and response.prompt in by_prompt:
            by_prompt[response.prompt].extend(answers)
            continue
        groups.append(answers)
        if response.prompt is not None:
            by_prompt[response.prompt] = answers
    return groups


def import_note(exact: dict[str, bool], vocab_size: int, given: bool) -> str:
    """What the imported numbers are, in words (the served path's honesty about top-k entropies)."""
    rank = ("every rank is known (inside the logged alternatives)" if exact["rank"]
            else "a rank is known only inside the logged alternatives (None = beyond them)")
    width = (f"V = {vocab_size:,} as given" if given else
             f"V = {vocab_size:,} assumed (not in the log; valid for any model with at most that many tokens, "
             f"looser than the true V gives; pass vocab_size for tighter bounds and true ln V normalisations)")
    entropy = ("entropies are exact (the logged alternatives hold the whole distribution)" if exact["entropy"] else
               f"each entropy is the midpoint of entropy_bounds, provably valid bounds from the logged top-k "
               f"log-probabilities (every unseen token at most as likely as the k-th; {width}), an estimate")
    return (f"imported log: probabilities and log-probabilities are the logged ones (as the server reported them, "
            f"before temperature on OpenAI's API and vLLM); {rank}; {entropy}; prompt tokens are not scored")


def text_analysis(answer: Answer, request: ImportRequest, vocab_size: int) -> TextAnalysis:
    """The logged answer as the Text page's TextAnalysis (positions from 0: the prompt's tokens are not logged)."""
    choice, response = answer.choice, answer.response
    tokens = [token_score(t, i, request.top_k).model_copy(update={"special": special})
              for i, (t, special) in enumerate(zip(choice.tokens, choice.special))]
    exact = exactness(choice.tokens)
    prompt = response.prompt or ""
    return TextAnalysis(
        model=response.model or "unnamed model", prompt=prompt, model_input=prompt,
        chat_template=response.format == "chat", mode="score", generated_text=choice.text, stop_reason="scored",
        temperature=response.temperature if response.temperature is not None else 1.0, do_sample=False, top_p=1.0,
        seed=0,
        max_new_tokens=max(1, len(tokens)), device=DEVICE, ids=[], answer_start=0, tokens=tokens, prompt_tokens=[],
        summaries=summary_scores(tokens), seconds=0.0, engine="openai", exact=exact,
        exactness_note=import_note(exact, vocab_size, request.vocab_size is not None))


def sequence_request(request: ImportRequest, prompt: str, model: str, samples: int,
                     temperature: Optional[float] = None) -> SequenceRequest:
    """The SequenceRequest the pipeline's selection and scoring read (sample_temperature: the line's temperature,
    else 1.0). Its TextRequest is built without validation: a log need not give a prompt (the pipeline reads only
    its prompt, "" then, for the embedding methods)."""
    text = TextRequest.model_construct(model=model, prompt=prompt, answer=None, chat_template=None)
    return SequenceRequest(text=text, methods=request.methods, samples=max(2, min(samples, MAX_SAMPLES)),
                           sample_temperature=temperature or 1.0,
                           embedding_model=request.embedding_model, meaning_model=request.meaning_model,
                           similarity_threshold=request.similarity_threshold,
                           method_parameters=request.method_parameters)


def usable_methods(specs: list[MethodSpec], samples: int) -> tuple[list[MethodSpec], dict[str, str]]:
    """(the methods a group with `samples` answers can run on logged numbers, {left out: why})."""
    usable, left_out = [], {}
    for spec in specs:
        missing = spec.missing(CAPABILITIES)
        if missing:
            left_out[spec.name] = why_not(missing)
        elif spec.group == "ask":
            left_out[spec.name] = NO_MODEL
        elif spec.group == "samples" and samples < 2:
            left_out[spec.name] = FEW_SAMPLES
        else:
            usable.append(spec)
    return usable, left_out


def refuse_impossible(specs: list[MethodSpec], named: bool) -> None:
    """A named method no log can feed (the full distribution, asking the model) is refused before any work."""
    impossible = {s.name: why for s in specs for why in [usable_methods([s], MAX_SAMPLES)[1].get(s.name)] if why}
    if named and impossible:
        listed = "; ".join(f"{name} ({why})" for name, why in impossible.items())
        raise UserInputError(f"an imported log cannot run {listed}; deselect "
                             f"{'it' if len(impossible) == 1 else 'them'}, or select 'all'")


def _score(spec: MethodSpec, run: SequenceRun, request: SequenceRequest) -> SequenceScore:
    """score_method, with valid bounds for the entropy methods (their value is an estimate from the top-k)."""
    score = score_method(spec, run.evidence, request)
    if score.value is None or all(cap in CAPABILITIES for cap in spec.exact_requires):
        return score
    lower, upper = value_bounds(spec, run.evidence, [t.entropy_bounds for t in run.text.tokens],
                                spec.check(request.method_parameters.get(spec.name, {})))
    details = {**score.details, "value_bounds": [lower.value, upper.value],
               "normalized_bounds": [lower.normalized, upper.normalized],
               "estimate": "an estimate from the logged top-k log-probabilities (each token entropy the midpoint of "
                           "its valid bounds); the exact value lies within value_bounds"}
    return score.model_copy(update={"details": details})


def _take_samples(run: SequenceRun, answers: list[Answer]) -> None:
    """The group's answers (at most MAX_SAMPLES) as the samples: token log-probabilities, texts, end marks."""
    chosen = [a.choice for a in answers[:MAX_SAMPLES]]
    run.samples = [Sample(list(c.token_ids or ()), [t.logprob for t in c.tokens],
                          STOP_REASONS.get(c.finish_reason or "", "max_new_tokens")) for c in chosen]
    run.evidence.sample_token_logprobs = [s.token_logprobs for s in run.samples]
    run.evidence.sample_texts = [c.text.strip() for c in chosen]
    run.evidence.sample_special = [list(c.special) for c in chosen]


def _gather_local(run: SequenceRun, answers: list[Answer], needed: list[str]) -> None:
    """Evidence from UQ Lens's embedding / NLI models: token relevance from the logged token texts (as the served
    path joins an engine's), sample embeddings and meaning (the in-process gatherers)."""
    prompt, evidence, embedder = run.request.text.prompt, run.evidence, run.models.embedder
    if "token_relevance" in needed:
        texts = removal_texts_from_pieces(prompt, [t.text for t in run.text.tokens], evidence.special)
        evidence.token_similarity = group_similarities(embedder, [texts])[0]
    if "sample_token_relevance" in needed:
        groups = [removal_texts_from_pieces(prompt, [t.text for t in a.choice.tokens], a.choice.special)
                  for a in answers[:MAX_SAMPLES]]
        evidence.sample_token_similarity = group_similarities(embedder, groups)
    for name in ("sample_embeddings", "meaning", "answer_meaning", "claims", "claim_alternatives", "claim_support"):
        if name in needed:
            GATHERERS[name](run)


def group_analysis(answers: list[Answer], request: ImportRequest, vocab_size: int,
                   models: SequenceModels) -> SequenceAnalysis:
    """Every usable method on one group (see the module docstring)."""
    started = time.perf_counter()
    first = answers[0]
    text = text_analysis(first, request, vocab_size)
    sequence = sequence_request(request, text.prompt, text.model, len(answers), first.response.temperature)
    specs, left_out = usable_methods(selected_methods(sequence), len(answers))
    evidence = ev.Evidence(logprobs=[t.logprob for t in text.tokens], entropies=[t.entropy for t in text.tokens],
                           special=[t.special for t in text.tokens], vocab_size=vocab_size)
    kept = (f"; the first {MAX_SAMPLES} of its {len(answers)} answers are the samples" if len(answers) > MAX_SAMPLES
            else "")
    run = SequenceRun(models, sequence, text, evidence, left_out=left_out, evidence_note=(
        f"imported log: the analysed answer is {first.source}; the group's answers (lines with the same prompt, or "
        f"n > 1 choices) are the samples, with their logged log-probabilities (at the temperature the server reports "
        f"them at){kept}; the sampling temperature is the line's \"temperature\" when given, else not known (1.0 is "
        f"recorded); token entropies are midpoints of "
        f"bounds from the logged top-k (estimates); meaning and embeddings come from the models in UQ Lens's process"))
    needed = needed_evidence(specs, models.meaning.kind if models.meaning else "")
    if "samples" in needed:
        _take_samples(run, answers)
    _gather_local(run, answers, needed)
    scores = [_score(spec, run, sequence) for spec in specs]
    return assemble(run, scores, {"total": time.perf_counter() - started})


def group_result(answers: list[Answer], analysis: SequenceAnalysis) -> ImportedGroup:
    """The group with its verdict when its first line gives a reference."""
    first = answers[0].response
    verdict = (grade(analysis.text.generated_text, [first.reference], question=first.prompt or "")
               if first.reference is not None else None)
    return ImportedGroup(prompt=first.prompt, reference=first.reference, sources=[a.source for a in answers],
                         format=first.format, analysis=analysis, correct=verdict.correct if verdict else None,
                         grading_reason=verdict.reason if verdict else "")


def import_audit(groups: list[ImportedGroup]) -> Optional[ImportAudit]:
    """Accuracy and each method's error-detection AUROC over the graded groups; None when none is graded."""
    graded = [g for g in groups if g.correct is not None]
    if not graded:
        return None
    names: dict[str, SequenceScore] = {}
    for group in graded:
        for score in group.analysis.scores:
            names.setdefault(score.name, score)
    methods = []
    for name, spec in names.items():
        pairs = [(s.value, g.correct) for g in graded for s in g.analysis.scores
                 if s.name == name and s.value is not None]
        labels = {c for _, c in pairs}
        auroc = (error_auroc([v for v, _ in pairs], [c for _, c in pairs], spec.higher_is) if len(labels) == 2
                 else None)
        methods.append(MethodAudit(name=name, label=spec.label, higher_is=spec.higher_is, auroc=auroc,
                                   scored=len(pairs)))
    right = sum(bool(g.correct) for g in graded)
    return ImportAudit(graded=len(graded), correct=right, accuracy=right / len(graded), methods=methods)


def models_for(engine: Any, request: SequenceRequest, specs: list[MethodSpec]) -> tuple[SequenceModels, Any]:
    """(the embedding / NLI models the methods use, a context holding their locks); no model when none is needed,
    and never a language model."""
    meaning = engine.meaning_source(request) if any(set(s.needs) & ev.MEANING_EVIDENCE for s in specs) else None
    needed = set(needed_evidence(specs, meaning.kind if meaning else ""))
    by_embedding = bool(needed & ev.CLAIM_EVIDENCE) and meaning is not None and meaning.kind == "embedding"
    embedder = (engine.embedding_model(request.embedding_model) if needed & ev.EMBEDDING_EVIDENCE or by_embedding
                else None)
    nli = engine.nli_model(meaning.model) if meaning and meaning.kind == "nli" else None
    held = [m.spec.id for m in (embedder, nli) if m is not None]
    return SequenceModels(lm=None, embedder=embedder, nli=nli, meaning=meaning), (
        engine.pool.hold(held) if held else nullcontext())


def import_logs(engine: Any, request: ImportRequest) -> ImportResult:
    """Read the file, group its answers and analyse every group (see the module docstring). `engine` lends the
    embedding / NLI models only when a selected method needs them (it may be None otherwise)."""
    started = time.perf_counter()
    vocab_size = request.vocab_size or DEFAULT_VOCAB_SIZE
    responses = parse_log(request.content, vocab_size)
    groups = group_answers(responses)
    probe = sequence_request(request, "", "imported", MAX_SAMPLES)
    selected = selected_methods(probe)
    refuse_impossible(selected, named="all" not in request.methods)
    runnable = usable_methods(selected, max(len(g) for g in groups))[0]
    needs = {need for spec in runnable for need in spec.needs}
    needs_models = bool(needs & (ev.EMBEDDING_EVIDENCE | ev.MEANING_EVIDENCE))
    models, held = (models_for(engine, probe, runnable) if needs_models
                    else (SequenceModels(lm=None, embedder=None, nli=None, meaning=None), nullcontext()))
    with held:
        results = [group_result(g, group_analysis(g, request, vocab_size, models)) for g in groups]
    exact = exactness([t for r in responses for c in r.choices for t in c.tokens])
    return ImportResult(name=request.name, responses=len(responses), vocab_size=vocab_size,
                        vocab_size_given=request.vocab_size is not None, groups=results,
                        audit=import_audit(results),
                        note=import_note(exact, vocab_size, request.vocab_size is not None),
                        seconds=time.perf_counter() - started)
