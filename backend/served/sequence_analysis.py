"""Sequence-level uncertainty of one answer from a model served by an engine (vLLM or any OpenAI-compatible
server): the same SequenceAnalysis as backend.sequence.pipeline.analyze_sequence, from what the engine returns.

- The answer is analysed as the Text page analyses a served model (backend.served.text_analysis): the server's
  log-probabilities, each token's entropy as the midpoint of valid bounds from the top-20.
- K samples come from ONE request with n = K (temperature = request.sample_temperature, seed = request.text.seed),
  each with its token log-probabilities and text. vLLM's default logprobs mode reports them before temperature
  (the model's distribution at temperature 1, whatever the sampling temperature; SequenceAnalysis.
  sample_logprob_temperature says 1.0), where the in-process path reads them at the sampling temperature: the two
  agree at sample_temperature 1.0 (tests/backend/served/test_sequence_analysis.py measures it).
- Meaning, Semantic Volume, SAR, lexical similarity, KLE and CoCoA's answer-to-sample similarity use the embedding /
  NLI models in UQ Lens's process, as for an in-process model. Token relevance (TokenSAR, SAR) embeds the texts made
  by joining the answer's token texts as the engine returned them, without token i (removal_texts_from_pieces),
  instead of decoding with a local tokenizer.
- Verbalized confidence: one greedy chat request (at most VERBALIZED_MAX_NEW_TOKENS tokens, the prompt of
  backend.analyses.self_report.verbalized_prompt). P(True): one chat request with max_tokens 1 and the top-20
  log-probabilities of the first reply token; p(True) and p(False) sum the probabilities of the TRUE_WORDS /
  FALSE_WORDS spellings found among those 20 (a spelling beyond them is not seen; neither found: P(True) has no
  value, with the reason).
- Mean / max token entropy are estimates on a served model: their details carry value_bounds and
  normalized_bounds (the method run at every token's lower and at its upper entropy bound: valid bounds) and say so.
- Methods the model cannot do (MethodSpec.requires, e.g. mean kurtosis, which needs the full distribution) are
  chosen by backend.sequence.pipeline.runnable_methods: named explicitly, a UserInputError before any request; with
  methods=["all"], left out, and SequenceAnalysis.left_out names them with the reason.

The samples, verbalized and P(True) requests are independent of each other, so they run concurrently (a small
thread pool; the engine batches them): samples start with the answer, the two questions about the answer as soon
as its text is known (at once for a given answer), so an analysis costs about one round trip more than the answer.
"""
from __future__ import annotations

import math
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Sequence

from backend.analyses import evidence as ev
from backend.analyses.evidence import VERBALIZED_MAX_NEW_TOKENS
from backend.analyses.self_report import FALSE_WORDS, TRUE_WORDS, p_true_prompt, verbalized_prompt
from backend.schemas import SequenceAnalysis, SequenceRequest, SequenceScore, TextAnalysis
from backend.sequence.evidence import group_similarities, removal_texts_from_pieces
from backend.sequence.method_spec import MethodSpec, value_bounds
from backend.sequence.perturbation_evidence import gather_perturbation_evidence
from backend.sequence.pipeline import (GATHERERS, SequenceModels, SequenceRun, assemble, needed_evidence,
                                       runnable_methods, score_method)
from backend.sequence.sampling import Sample
from backend.served.calls import generate, user_messages, vocab_size
from backend.served.evidence import MAX_TOP_LOGPROBS, MIN_TOP_LOGPROBS, Alternative, Generation
from backend.served.http import OpenAIClient
from backend.served.text_analysis import STOP_REASONS, analyze_served_text, detokenized_input

P_TRUE_TOP_LOGPROBS = MAX_TOP_LOGPROBS
LOCAL_EVIDENCE = ("sample_embeddings", "meaning", "answer_meaning", "claims", "claim_alternatives",
                  "claim_support")  # gathered in-process as for an in-process model
WORKERS = 3  # samples, verbalized, P(True)


@dataclass
class ServedRun(SequenceRun):
    """A SequenceRun on a served model, with the samples' token texts as the engine returned them and the P(True)
    spellings seen among the first reply token's top-k."""

    sample_pieces: list[list[str]] = field(default_factory=list)
    p_true_seen: list[str] = field(default_factory=list)


def sample_of(choice, stop_reason: str) -> Sample:
    """A served sample as backend.sequence.sampling.Sample: its token ids (empty when the server gives none), its
    token log-probabilities (nats, end token included when it stopped on one) and why it stopped."""
    return Sample(list(choice.token_ids or ()), [t.logprob for t in choice.tokens], stop_reason)


def end_token_marks(count: int, stopped_on_end: bool) -> list[bool]:
    """Which of `count` tokens are special: the last one when the answer stopped on an end token (the engine
    lists it last, as the in-process path keeps it), none otherwise."""
    return [stopped_on_end and i == count - 1 for i in range(count)]


def p_true_from_top(top: Sequence[Alternative], k: int = P_TRUE_TOP_LOGPROBS) -> tuple[float, float, list[str]]:
    """(p(True), p(False), the spellings seen) from the first reply token's top-k alternatives: the probabilities
    of the TRUE_WORDS / FALSE_WORDS spellings among them, each distinct token counted once. ValueError when
    neither word is among them (only the top-k are seen: their mass may lie beyond)."""
    seen: dict[str, float] = {}
    for alternative in top:
        if alternative.text in TRUE_WORDS + FALSE_WORDS and alternative.text not in seen:
            seen[alternative.text] = alternative.prob
    if not seen:
        raise ValueError(f"neither True nor False is among the top-{k} first tokens of the served model's reply "
                         f"(only the top-{k} are seen), so P(True) cannot be read")
    p_true = math.fsum(p for word, p in seen.items() if word in TRUE_WORDS)
    p_false = math.fsum(p for word, p in seen.items() if word in FALSE_WORDS)
    return p_true, p_false, list(seen)


def evidence_note(client: OpenAIClient, k: int) -> str:
    """What the engine gave, in words, for SequenceAnalysis.evidence_note."""
    before = ("before temperature (vLLM's default logprobs mode: the model's distribution at temperature 1)"
              if client.spec.engine == "vllm" else "as the server reports them (it does not say at which temperature)")
    return (f"served by {client.spec.engine}: the answer and the K samples (one request, n = K) carry the server's "
            f"log-probabilities, {before}; token entropies are midpoints of bounds from the top-{MAX_TOP_LOGPROBS} "
            f"(estimates); token relevance joins the engine's token texts; P(True) sees only the top-{k} first "
            f"tokens; meaning and embeddings come from the models in UQ Lens's process")


def ask(client: OpenAIClient, prompt: str, *, max_tokens: int, top_logprobs: int) -> tuple[str, Generation]:
    """(the exact model input, the greedy reply) of one chat request asking `prompt`."""
    reply = generate(client, user_messages(prompt), max_tokens=max_tokens, temperature=0.0,
                     top_logprobs=top_logprobs)
    return detokenized_input(client, reply.prompt_token_ids, prompt), reply


def _sample(client: OpenAIClient, request: SequenceRequest) -> Generation:
    return generate(client, user_messages(request.text.prompt), n=request.samples,
                    max_tokens=request.text.max_new_tokens, temperature=request.sample_temperature,
                    top_p=1.0, seed=request.text.seed, top_logprobs=MIN_TOP_LOGPROBS)


def _take_samples(run: ServedRun, generation: Generation) -> None:
    """The K samples as evidence: ids, token log-probabilities, texts and end-token marks."""
    reasons = [STOP_REASONS.get(c.finish_reason or "", "max_new_tokens") for c in generation.samples]
    run.samples = [sample_of(c, reason) for c, reason in zip(generation.samples, reasons)]
    run.evidence.sample_token_logprobs = [s.token_logprobs for s in run.samples]
    run.evidence.sample_texts = [c.text.strip() for c in generation.samples]
    run.evidence.sample_special = [end_token_marks(len(c.tokens), reason == "eos")
                                   for c, reason in zip(generation.samples, reasons)]
    run.sample_pieces = [[t.text for t in c.tokens] for c in generation.samples]


def _take_verbalized(run: ServedRun, asked: tuple[str, Generation]) -> None:
    model_input, reply = asked
    run.evidence.prompts["verbalized"], run.evidence.verbalized_reply = model_input, reply.samples[0].text.strip()


def _take_p_true(run: ServedRun, asked: tuple[str, Generation]) -> None:
    model_input, reply = asked
    run.evidence.prompts["p_true"] = model_input
    first = reply.samples[0].tokens
    try:
        if not first:
            raise ValueError("the served model's reply to the True / False question is empty")
        p_true, p_false, seen = p_true_from_top(first[0].top)
    except ValueError as exc:
        run.evidence.failures["p_true"] = str(exc)
        return
    run.evidence.p_true_probs = (p_true, p_false)
    run.p_true_seen = seen


def analyze_served_sequence(models: SequenceModels, request: SequenceRequest) -> SequenceAnalysis:
    """Every selected method the served model can run on the request's answer (see the module docstring)."""
    started = time.perf_counter()
    specs, left_out = runnable_methods(request, models.lm.spec.capabilities)
    needed = needed_evidence(specs, models.meaning.kind if models.meaning else "")
    client, question = models.lm.client, request.text.prompt
    width = vocab_size(client)  # once, before the concurrent requests (it may ask the server)
    seconds: dict[str, float] = {}
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="uqlens-served") as pool:
        pending: dict[str, Future] = {}
        if "samples" in needed:
            pending["samples"] = pool.submit(_timed, seconds, "samples", lambda: _sample(client, request))
        if request.text.answer is not None:
            _ask_about(pool, pending, seconds, client, question, request.text.answer, needed)
        text = analyze_served_text(models.lm, request.text)
        seconds["generation"] = text.seconds
        if request.text.answer is None:
            _ask_about(pool, pending, seconds, client, question, text.generated_text, needed)
        run = _served_run(models, request, text, width, left_out)
        for name, take in (("samples", _take_samples), ("verbalized", _take_verbalized), ("p_true", _take_p_true)):
            if name in pending:
                take(run, pending[name].result())
    _gather_local(run, needed, seconds)
    scores = [_score(spec, run, request) for spec in specs]
    seconds["total"] = time.perf_counter() - started
    return assemble(run, scores, seconds)


def _timed(seconds: dict[str, float], name: str, work: Callable[[], object]) -> object:
    stage = time.perf_counter()
    try:
        return work()
    finally:
        seconds[name] = time.perf_counter() - stage


def _ask_about(pool: ThreadPoolExecutor, pending: dict[str, Future], seconds: dict[str, float],
               client: OpenAIClient, question: str, answer: str, needed: list[str]) -> None:
    """Start the verbalized and P(True) requests about `answer` when a selected method needs them."""
    if "verbalized" in needed:
        pending["verbalized"] = pool.submit(_timed, seconds, "verbalized", lambda: ask(
            client, verbalized_prompt(question, answer), max_tokens=VERBALIZED_MAX_NEW_TOKENS,
            top_logprobs=MIN_TOP_LOGPROBS))
    if "p_true" in needed:
        pending["p_true"] = pool.submit(_timed, seconds, "p_true", lambda: ask(
            client, p_true_prompt(question, answer), max_tokens=1, top_logprobs=P_TRUE_TOP_LOGPROBS))


def _served_run(models: SequenceModels, request: SequenceRequest, text: TextAnalysis, width: int,
                left_out: dict[str, str]) -> ServedRun:
    """The run's starting evidence from the served answer: its tokens' log-probabilities, entropy midpoints and
    end-token mark, and the engine's vocabulary width."""
    special = end_token_marks(len(text.tokens), text.stop_reason == "eos")
    evidence = ev.Evidence(logprobs=[t.logprob for t in text.tokens], entropies=[t.entropy for t in text.tokens],
                           special=special, vocab_size=width)
    return ServedRun(models, request, text, evidence, left_out=left_out,
                     sample_logprob_temperature=1.0 if models.lm.spec.engine == "vllm" else None,
                     evidence_note=evidence_note(models.lm.client, P_TRUE_TOP_LOGPROBS))


def _gather_local(run: ServedRun, needed: list[str], seconds: dict[str, float]) -> None:
    """The evidence computed in UQ Lens's process: token relevance from the engine's token texts, sample
    embeddings and meaning (the in-process gatherers)."""
    prompt, evidence, embedder = run.request.text.prompt, run.evidence, run.models.embedder
    if "token_relevance" in needed:
        answer = removal_texts_from_pieces(prompt, [t.text for t in run.text.tokens], evidence.special)
        evidence.token_similarity = _timed(seconds, "token_relevance",
                                           lambda: group_similarities(embedder, [answer])[0])
    if "sample_token_relevance" in needed:
        samples = [removal_texts_from_pieces(prompt, pieces, special)
                   for pieces, special in zip(run.sample_pieces, evidence.sample_special or [])]
        evidence.sample_token_similarity = _timed(seconds, "sample_token_relevance",
                                                  lambda: group_similarities(embedder, samples))
    for name in LOCAL_EVIDENCE:
        if name in needed:
            _timed(seconds, name, lambda: GATHERERS[name](run))
    if "perturbations" in needed:
        _timed(seconds, "perturbations", lambda: gather_perturbation_evidence(run, _perturbation_sampler(run)))


def _perturbation_sampler(run: ServedRun) -> Callable[[list[str]], list[list[str]]]:
    """Inv-Entropy's answers on a served model: one request with n = K per perturbed prompt, all at once (the
    engine batches them), the i-th seeded with the request's seed + i."""
    client, request = run.models.lm.client, run.request

    def answers(prompt: str, index: int) -> list[str]:
        reply = generate(client, user_messages(prompt), n=request.samples, max_tokens=request.text.max_new_tokens,
                         temperature=request.sample_temperature, top_p=1.0, seed=request.text.seed + index,
                         top_logprobs=MIN_TOP_LOGPROBS)
        return [choice.text.strip() for choice in reply.samples]

    def sample(prompts: list[str]) -> list[list[str]]:
        with ThreadPoolExecutor(max_workers=len(prompts) or 1, thread_name_prefix="uqlens-perturbed") as pool:
            return list(pool.map(answers, prompts, range(1, len(prompts) + 1)))
    return sample


def _score(spec: MethodSpec, run: ServedRun, request: SequenceRequest) -> SequenceScore:
    """score_method, with what the served evidence adds: bounds and 'an estimate' for the entropy methods, which
    spellings P(True) saw."""
    score = score_method(spec, run.evidence, request)
    details = dict(score.details)
    have = set(run.models.lm.spec.capabilities)
    if score.value is not None and any(cap not in have for cap in spec.exact_requires):
        lower, upper = value_bounds(spec, run.evidence, [t.entropy_bounds for t in run.text.tokens],
                                    spec.check(request.method_parameters.get(spec.name, {})))
        details.update(value_bounds=[lower.value, upper.value], normalized_bounds=[lower.normalized, upper.normalized],
                       estimate=f"an estimate from the served model's top-{MAX_TOP_LOGPROBS} log-probabilities "
                                f"(each token entropy the midpoint of its valid bounds); the exact value lies within "
                                f"value_bounds (the method at every token's lower and at its upper bound)")
    if "p_true" in spec.needs:
        details["top_k_seen"] = P_TRUE_TOP_LOGPROBS
        details["spellings_seen"] = run.p_true_seen
        details["note"] = (f"only the top-{P_TRUE_TOP_LOGPROBS} first tokens of the reply are seen: p(True) and "
                           f"p(False) sum the spellings found among them")
    return score.model_copy(update={"details": details})
