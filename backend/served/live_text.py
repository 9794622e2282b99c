"""Live generation on a served model: the engine's streamed chat completion (stream=True, with log-probabilities),
each token published to the installed stream (backend.streaming) as its chunk arrives, then the answer's ids scored
as the non-streamed served analysis scores them (backend.served.calls.score_ids: one teacher-forced pass), so the
finished analysis equals analyze_served_text's. A reader's stop closes the stream (vLLM stops generating) and the
ids so far are scored, stop_reason "stopped".

Streaming needs vLLM (its chunks carry the token ids and the prompt's ids); a generic OpenAI-compatible server, a
given answer and a forced prefix are analysed as analyze_served_text does (no tokens published on the way).
"""
from __future__ import annotations

import time
from typing import Optional

from backend.budget import checkpoint
from backend.errors import UserInputError
from backend.schemas import TextAnalysis, TextRequest, TokenScore
from backend.served.calls import chat_body, score_ids, user_messages, vocab_size
from backend.served.evidence import MAX_TOP_LOGPROBS, chat_alternative, token_evidence
from backend.served.model import ServedTextModel
from backend.served.text_analysis import (STOP_REASONS, analyze_served_text, detokenized_input, exactness,
                                          exactness_note, token_score)
from backend.streaming import TokenStream, current_stream
from backend.text.summaries import summary_scores


def chunk_tokens(chunk: dict, start: int, vocab: int, top_k: int) -> list[TokenScore]:
    """The tokens of one streamed chat chunk (its choice's logprobs.content with token_ids), positions from
    `start`, as TokenScores from the chunk's own log-probabilities (vLLM lists the chosen token first)."""
    tokens = []
    for choice in chunk.get("choices") or []:
        ids = choice.get("token_ids") or []
        for i, entry in enumerate((choice.get("logprobs") or {}).get("content") or []):
            top = entry.get("top_logprobs") or []
            if i >= len(ids) or not top:
                raise UserInputError("the served model's stream lacks token ids or top log-probabilities; live "
                                     "generation needs vLLM with return_token_ids and top_logprobs")
            evidence = token_evidence(chat_alternative(entry, ids[i]), [chat_alternative(t) for t in top], vocab,
                                      true_top_k=False)
            tokens.append(token_score(evidence, start + len(tokens), top_k))
    return tokens


def streamed_answer(lm: ServedTextModel, request: TextRequest, stream: TokenStream
                    ) -> tuple[list[int], list[int], str, str]:
    """Generate through the engine's stream, publishing each token; returns (prompt ids, answer ids, answer text,
    stop reason). Stops reading (closing the connection) when the reader asks to finish."""
    client = lm.client
    body = {**chat_body(client, user_messages(request.prompt), n=1, max_tokens=request.max_new_tokens,
                        temperature=request.temperature if request.do_sample else 0.0,
                        top_p=request.top_p if request.do_sample else 1.0, seed=request.seed,
                        top_logprobs=MAX_TOP_LOGPROBS), "stream": True}
    vocab = vocab_size(client)
    prompt_ids: list[int] = []
    answer_ids: list[int] = []
    text, finish = "", None
    for chunk in client.post_stream("/chat/completions", body):
        prompt_ids = list(chunk.get("prompt_token_ids") or prompt_ids)
        for token in chunk_tokens(chunk, len(prompt_ids) + len(answer_ids), vocab, request.top_k):
            answer_ids.append(token.id)
            stream.publish(token)
            checkpoint("tokens", len(answer_ids), request.max_new_tokens)
        for choice in chunk.get("choices") or []:
            text += (choice.get("delta") or {}).get("content") or ""
            finish = choice.get("finish_reason") or finish
        if answer_ids and finish is None and stream.finishing():
            stream.stopped_early = True
            return prompt_ids, answer_ids, text, "stopped"
    return prompt_ids, answer_ids, text, STOP_REASONS.get(finish or "", "max_new_tokens")


def analyze_live_served_text(lm: ServedTextModel, request: TextRequest) -> TextAnalysis:
    """analyze_served_text with each generated token published to the installed stream as it comes (vLLM only;
    see the module's docstring for what is analysed without streaming)."""
    stream: Optional[TokenStream] = current_stream()
    beginning = request.answer is not None or request.prefix is not None or request.prefix_ids is not None
    if stream is None or beginning or lm.client.spec.engine != "vllm" or request.chat_template is False:
        return analyze_served_text(lm, request)
    started = time.perf_counter()
    client = lm.client
    prompt_ids, answer_ids, text, stop_reason = streamed_answer(lm, request, stream)
    if not prompt_ids:
        raise UserInputError("the served model's stream did not give the prompt's token ids; live generation needs "
                             "vLLM with return_token_ids")
    evidence = score_ids(client, prompt_ids, answer_ids, MAX_TOP_LOGPROBS).tokens if answer_ids else ()
    start = len(prompt_ids)
    tokens = [token_score(t, start + i, request.top_k) for i, t in enumerate(evidence)]
    exact = exactness(evidence)
    return TextAnalysis(
        model=lm.spec.id, prompt=request.prompt, model_input=detokenized_input(client, prompt_ids, request.prompt),
        chat_template=True, mode="generate", generated_text=text, stop_reason=stop_reason,
        temperature=request.temperature, do_sample=request.do_sample, top_p=request.top_p, seed=request.seed,
        max_new_tokens=request.max_new_tokens, device=lm.device,
        ids=prompt_ids + answer_ids if answer_ids else [], answer_start=start, tokens=tokens, prompt_tokens=[],
        summaries=summary_scores(tokens), seconds=time.perf_counter() - started, engine=lm.spec.engine,
        exact=exact, exactness_note=exactness_note(exact, MAX_TOP_LOGPROBS))
