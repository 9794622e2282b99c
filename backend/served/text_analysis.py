"""analyze_text on a served model: the engine's answer (or the given answer, scored through vLLM's prompt
log-probabilities) as a TextAnalysis, each token with the server's probability, log-probability, top
alternatives, rank (None = beyond the top-k) and entropy as the midpoint of its provably valid bounds.

On vLLM a generated answer is scored once more, as a given answer is (its ids after the prompt's, through
prompt_logprobs: one teacher-forced pass, as the in-process path scores its answers), because only that gives
every token's exact rank in the whole vocabulary; a generic server's numbers are those of its answer.

The server reports log-probabilities before temperature (temperature 1), only for the answer: prompt tokens are
not scored (prompt_tokens is empty), and the chat template is the engine's (the same as in-process for the model
vLLM serves from the same folder). ids are empty (answer_start 0) when the server gives no token ids (a generic
OpenAI-compatible server); token and alternative ids are then None.
"""
from __future__ import annotations

import time
from typing import Optional, Sequence

from backend.errors import UserInputError
from backend.schemas import Alternative, TextAnalysis, TextRequest, TokenScore
from backend.served.calls import (cannot_continue, chat_prompt_ids, continue_ids, generate, score_answer, score_ids,
                                  tokenize, user_messages)
from backend.served.evidence import MAX_TOP_LOGPROBS, TokenEvidence
from backend.served.http import OpenAIClient
from backend.served.model import ServedTextModel
from backend.text.summaries import summary_scores

STOP_REASONS = {"stop": "eos", "length": "max_new_tokens"}


def token_score(token: TokenEvidence, position: int, top_k: int) -> TokenScore:
    """One answer token as a TokenScore: the entropy is the bounds' midpoint, top_k the k most likely listed."""
    top = token.top
    margin = top[0].prob - top[1].prob if len(top) > 1 else top[0].prob
    return TokenScore(position=position, text=token.text, id=token.id, prob=token.prob, logprob=token.logprob,
                      entropy=token.entropy.estimate, rank=token.rank, margin=margin,
                      top_k=[Alternative(text=a.text, id=a.id, prob=a.prob) for a in top[:top_k]],
                      entropy_bounds=list(token.entropy_bounds))


def exactness(tokens: Sequence[TokenEvidence]) -> dict[str, bool]:
    """Which numbers are exact for every answer token (prob, logprob and margin always: the server's own)."""
    return {"prob": True, "logprob": True, "margin": True,
            "rank": all(t.exact["rank"] for t in tokens), "entropy": all(t.exact["entropy"] for t in tokens)}


def exactness_note(exact: dict[str, bool], k: int) -> str:
    """The exactness in words, for the legend and the JSON."""
    rank = ("every rank is known (inside the top-k, or as the engine reports it)" if exact["rank"]
            else f"a rank is known only inside the top-{k} (None = beyond it)")
    entropy = ("entropies are exact (the top-k hold the whole distribution)" if exact["entropy"] else
               f"each entropy is the midpoint of entropy_bounds, provably valid bounds from the top-{k} "
               f"log-probabilities (every unseen token at most as likely as the {k}-th), an estimate")
    return (f"served model: probabilities and log-probabilities are the server's (before temperature); {rank}; "
            f"{entropy}; prompt tokens are not scored")


def detokenized_input(client: OpenAIClient, prompt_ids: Optional[Sequence[int]], prompt: str) -> str:
    """The text the engine's model saw before the answer (vLLM's /detokenize of the prompt ids), else the prompt."""
    if not prompt_ids or client.spec.engine != "vllm":
        return prompt
    return client.post_root("/detokenize", {"model": client.spec.model, "tokens": list(prompt_ids)})["prompt"]


def continued(client: OpenAIClient, messages: list[dict], request: TextRequest
              ) -> tuple[list[int], list[int], int, Sequence[TokenEvidence], str, str]:
    """An answer forced to start with request.prefix_ids (or request.prefix, tokenised by the engine) and
    continued by vLLM after them; prefix + continuation scored in one teacher-forced pass (score_ids), so the
    forced tokens get the probabilities the model gives them there. Returns (prompt ids, answer ids, how many of
    them are forced, evidence, answer text, stop reason); a generic server gets cannot_continue."""
    if client.spec.engine != "vllm":
        raise cannot_continue(client)
    prompt_ids = chat_prompt_ids(client, messages)
    if request.prefix_ids is not None:
        forced = list(request.prefix_ids)
        prefix_text = client.post_root("/detokenize", {"model": client.spec.model, "tokens": forced})["prompt"]
    else:
        forced, prefix_text = tokenize(client, {"prompt": request.prefix}), request.prefix
    new_ids, new_text, finish = continue_ids(client, prompt_ids + forced, max_tokens=request.max_new_tokens,
                                             temperature=request.temperature if request.do_sample else 0.0,
                                             top_p=request.top_p if request.do_sample else 1.0, seed=request.seed)
    evidence = score_ids(client, prompt_ids, forced + new_ids, MAX_TOP_LOGPROBS).tokens
    stop_reason = STOP_REASONS.get(finish or "", "max_new_tokens")
    return prompt_ids, forced + new_ids, len(forced), evidence, prefix_text + new_text, stop_reason


def analyze_served_text(lm: ServedTextModel, request: TextRequest) -> TextAnalysis:
    """analyze_text through the engine: one chat request (greedy, or sampled at request.temperature), or the
    given answer scored; top-20 log-probabilities asked for (tightest bounds), request.top_k reported."""
    if request.chat_template is False:
        raise UserInputError(f"{lm.spec.id!r} is served: its engine always applies the chat template; leave "
                             f"chat_template unset or true")
    started = time.perf_counter()
    client, messages = lm.client, user_messages(request.prompt)
    forced = 0
    if request.prefix is not None or request.prefix_ids is not None:
        prompt_ids, answer_ids, forced, evidence, text, stop_reason = continued(client, messages, request)
    elif request.answer is not None:
        scored = score_answer(client, messages, request.answer, top_logprobs=MAX_TOP_LOGPROBS)
        prompt_ids, answer_ids, evidence = scored.prompt_token_ids, scored.answer_token_ids, scored.tokens
        text, stop_reason = request.answer, "scored"
    else:
        generation = generate(client, messages, max_tokens=request.max_new_tokens,
                              temperature=request.temperature if request.do_sample else 0.0,
                              top_p=request.top_p if request.do_sample else 1.0, seed=request.seed,
                              top_logprobs=MAX_TOP_LOGPROBS)
        sample = generation.samples[0]
        prompt_ids, answer_ids, evidence = generation.prompt_token_ids, sample.token_ids, sample.tokens
        if client.spec.engine == "vllm" and prompt_ids and answer_ids:
            evidence = score_ids(client, prompt_ids, answer_ids, MAX_TOP_LOGPROBS).tokens
        text, stop_reason = sample.text, STOP_REASONS.get(sample.finish_reason or "", "max_new_tokens")
    start = len(prompt_ids or ())
    tokens = [token_score(t, start + i, request.top_k).model_copy(update={"forced": i < forced})
              for i, t in enumerate(evidence)]
    exact = exactness(evidence)
    return TextAnalysis(
        model=lm.spec.id, prompt=request.prompt, model_input=detokenized_input(client, prompt_ids, request.prompt),
        chat_template=True, mode="score" if request.answer is not None else "generate", generated_text=text,
        stop_reason=stop_reason, temperature=request.temperature, do_sample=request.do_sample,
        top_p=request.top_p, seed=request.seed, max_new_tokens=request.max_new_tokens, device=lm.device,
        ids=list(prompt_ids or ()) + list(answer_ids or ()) if prompt_ids and answer_ids else [],
        answer_start=start, tokens=tokens, prompt_tokens=[], summaries=summary_scores(tokens),
        seconds=time.perf_counter() - started, engine=lm.spec.engine, exact=exact,
        exactness_note=exactness_note(exact, MAX_TOP_LOGPROBS))
