"""Token-level uncertainty of a generated (or given) answer: one generate call plus one forward pass.

The generate call only chooses the answer's ids. Every number then comes from a single teacher-forced forward
pass over template + prompt + answer, so it equals what a direct transformers forward over the same ids gives,
and the prompt's tokens are scored by the same pass. Sequences longer than backend.text.passes.SINGLE_PASS_TOKENS
are read in chunks through the key-value cache (memory linear in tokens; equal up to summation order), and a long
prompt is read once: the same chunked pass scores it and fills the cache generation continues from.
"""
from __future__ import annotations

import time
from typing import Callable

import torch

from backend.analyses.token_stats import TokenStatsArrays, concat_stats, token_stats
from backend.budget import claim
from backend.errors import UserInputError
from backend.models.text_loader import LoadedTextModel
from backend.schemas import Alternative, TextAnalysis, TextRequest, TokenScore
from backend.text.passes import SINGLE_PASS_TOKENS, budget_criteria, forward_chunks, prefill
from backend.text.summaries import summary_scores

DECODE_WINDOW = 6
REPLACEMENT_CHAR = "\ufffd"


def build_model_input(lm: LoadedTextModel, prompt: str, chat_template: bool | None) -> tuple[str, list[int], bool]:
    """The exact text and ids the model sees before the answer.

    chat_template None means: use it when the tokenizer has one. Returns (text, ids, template_used).
    """
    use_template = lm.has_chat_template if chat_template is None else chat_template
    if use_template and not lm.has_chat_template:
        raise UserInputError(f"model {lm.spec.id!r} has no chat template; turn the chat template off")
    if use_template:
        text = lm.tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                                add_generation_prompt=True)
        ids = lm.tokenizer(text, add_special_tokens=False)["input_ids"]
    else:
        text = prompt
        ids = lm.tokenizer(text)["input_ids"]
    return text, list(ids), use_template


def check_length(lm: LoadedTextModel, n_input: int, n_new: int) -> None:
    """Refuse sequences longer than the model's context, saying by how much."""
    if n_input + n_new > lm.max_length:
        raise UserInputError(
            f"the prompt is {n_input} tokens and {n_new} new tokens were asked for, but {lm.spec.id} reads at "
            f"most {lm.max_length} tokens; shorten the prompt by {n_input + n_new - lm.max_length} tokens or ask "
            f"for fewer new tokens")


def eos_ids(lm: LoadedTextModel) -> set[int]:
    """Token ids that end generation (from the generation config and the tokenizer)."""
    found = lm.model.generation_config.eos_token_id
    ids = set(found if isinstance(found, list) else [found] if found is not None else [])
    if lm.tokenizer.eos_token_id is not None:
        ids.add(lm.tokenizer.eos_token_id)
    return ids


def pad_id(lm: LoadedTextModel) -> int:
    """The id generate pads finished sequences with: the padding token, else the smallest end token."""
    if lm.tokenizer.pad_token_id is not None:
        return lm.tokenizer.pad_token_id
    return min(eos_ids(lm), default=0)


def sampling_settings(request: TextRequest) -> dict:
    """generate's decoding keywords for the request: greedy, or the full distribution at its temperature / top-p
    (no top-k truncation, so the reported probabilities describe what was sampled from)."""
    if request.do_sample:
        return dict(do_sample=True, temperature=request.temperature, top_p=request.top_p, top_k=0)
    return dict(do_sample=False, temperature=None, top_p=None, top_k=None)


def generate_ids(lm: LoadedTextModel, input_ids: list[int], request: TextRequest) -> list[int]:
    """New token ids from one generate call: greedy, or sampled at the request's temperature / top-p / seed."""
    torch.manual_seed(request.seed)
    ids = torch.tensor([input_ids], device=lm.device)
    with torch.inference_mode():
        out = lm.model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=request.max_new_tokens,
                                eos_token_id=sorted(eos_ids(lm)) or None, pad_token_id=pad_id(lm),
                                stopping_criteria=budget_criteria(len(input_ids), request.max_new_tokens),
                                **sampling_settings(request))
    return out[0, len(input_ids):].tolist()


def generate_from_cache(lm: LoadedTextModel, input_ids: list[int], cache, request: TextRequest
                        ) -> tuple[list[int], torch.Tensor]:
    """New ids and their raw logits (n_new, V) from generate continuing a cache that holds input_ids[:-1]."""
    torch.manual_seed(request.seed)
    ids = torch.tensor([input_ids], device=lm.device)
    with torch.inference_mode():
        out = lm.model.generate(ids, attention_mask=torch.ones_like(ids), past_key_values=cache,
                                max_new_tokens=request.max_new_tokens, eos_token_id=sorted(eos_ids(lm)) or None,
                                pad_token_id=pad_id(lm), output_logits=True, return_dict_in_generate=True,
                                stopping_criteria=budget_criteria(len(input_ids), request.max_new_tokens),
                                **sampling_settings(request))
    return out.sequences[0, len(input_ids):].tolist(), torch.cat([step[:1].float() for step in out.logits])


def stats_collector(ids: list[int], temperature: float, top_k: int
                    ) -> tuple[Callable[[int, torch.Tensor], None], list[TokenStatsArrays]]:
    """A rows callback for backend.text.passes that turns each chunk of logits into token statistics at once
    (so logits are never kept), and the list the statistics land in; row t of a chunk starting at s describes
    ids[s + t + 1] (a last row with no next id is dropped)."""
    parts: list[TokenStatsArrays] = []

    def on_rows(start: int, logits: torch.Tensor) -> None:
        targets = torch.tensor(ids[start + 1:start + 1 + logits.shape[0]])
        if len(targets):
            parts.append(token_stats(logits[:len(targets)], targets, temperature=temperature, top_k=top_k))
    return on_rows, parts


def score_ids(lm: LoadedTextModel, ids: list[int], temperature: float, top_k: int) -> TokenStatsArrays:
    """Statistics of ids[1:] (L-1 rows) from one teacher-forced pass (chunked beyond SINGLE_PASS_TOKENS)."""
    on_rows, parts = stats_collector(ids, temperature, top_k)
    forward_chunks(lm, ids, on_rows)
    return concat_stats(parts)


def answer_logits(lm: LoadedTextModel, ids: list[int], answer_start: int) -> torch.Tensor:
    """Raw logits (L - answer_start, V) of the rows that predict the answer ids[answer_start:], from one
    teacher-forced pass (chunked beyond SINGLE_PASS_TOKENS; the prompt's rows are never kept)."""
    kept: list[torch.Tensor] = []

    def on_rows(start: int, logits: torch.Tensor) -> None:
        low, high = max(0, answer_start - 1 - start), min(logits.shape[0], len(ids) - 1 - start)
        if low < high:
            kept.append(logits[low:high].clone())
    forward_chunks(lm, ids, on_rows)
    return torch.cat(kept)


def forced_ids(lm: LoadedTextModel, request: TextRequest) -> list[int]:
    """The ids the answer is forced to start with: request.prefix_ids as given (each checked against the model's
    vocabulary), request.prefix tokenised as an answer is (no special tokens added), else []."""
    if request.prefix_ids is not None:
        width = lm.model.get_input_embeddings().num_embeddings
        outside = [i for i in request.prefix_ids if i >= width]
        if outside:
            raise UserInputError(f"prefix_ids {outside[:5]} are not token ids of {lm.spec.id} (its vocabulary has "
                                 f"{width} ids); send ids from this model's analysis, or the prefix as text")
        return list(request.prefix_ids)
    if request.prefix is not None:
        return list(lm.tokenizer(request.prefix, add_special_tokens=False)["input_ids"])
    return []


def answer_and_stats(lm: LoadedTextModel, input_ids: list[int], request: TextRequest
                     ) -> tuple[list[int], TokenStatsArrays]:
    """The answer's ids (given, or the forced prefix then generated ids) and the statistics of every position
    after the first.

    A short prompt is generated from as usual (after its forced prefix, when there is one: generate continues
    from input + prefix) and then scored by one teacher-forced pass over prompt + answer, prefix included. A
    prompt longer than SINGLE_PASS_TOKENS is read once, in chunks: that pass scores the prompt (and the prefix)
    and fills the key-value cache that generation continues from, and the generated ids are scored from
    generate's own logits (equal to the teacher-forced pass up to summation order), so the prompt is never run
    twice. max_new_tokens counts the generated ids after the prefix; a prefix ending in an end token is not
    continued.
    """
    if request.answer is not None:
        answer_ids = list(lm.tokenizer(request.answer, add_special_tokens=False)["input_ids"])
        check_length(lm, len(input_ids), len(answer_ids))
        claim(len(input_ids) + len(answer_ids), 1, "scoring this answer")
        return answer_ids, score_ids(lm, input_ids + answer_ids, request.temperature, request.top_k)
    forced = forced_ids(lm, request)
    context = input_ids + forced
    if forced and forced[-1] in eos_ids(lm):
        check_length(lm, len(input_ids), len(forced))
        claim(len(context), 1, "scoring this prefix")
        return forced, score_ids(lm, context, request.temperature, request.top_k)
    check_length(lm, len(context), request.max_new_tokens)
    short = len(context) <= SINGLE_PASS_TOKENS
    claim(len(context) + request.max_new_tokens, 2 if short else 1, "this analysis")
    if short:
        answer_ids = forced + generate_ids(lm, context, request)
        return answer_ids, score_ids(lm, input_ids + answer_ids, request.temperature, request.top_k)
    on_rows, parts = stats_collector(context, request.temperature, request.top_k)
    cache = prefill(lm, context, on_rows)
    new_ids, logits = generate_from_cache(lm, context, cache, request)
    del cache
    answer = token_stats(logits, torch.tensor(new_ids), temperature=request.temperature, top_k=request.top_k)
    return forced + new_ids, concat_stats(parts + [answer])


def token_texts(tokenizer, ids: list[int], start: int, stop: int) -> list[str]:
    """Surface text of ids[start:stop], each decoded in the context of the few tokens before it.

    Decoding a window and removing the decoded prefix keeps leading spaces that a lone-token decode would lose.
    A character split over several byte tokens belongs to the token that completes it; the tokens before give ""
    (trailing U+FFFD of an unfinished character is dropped on both sides of the difference). Falls back to the
    lone decode when the prefix does not match. The windows are decoded in two batch_decode calls.
    """
    windows = [ids[max(0, i - DECODE_WINDOW):i + 1] for i in range(start, stop)]
    wholes = tokenizer.batch_decode(windows, skip_special_tokens=False)
    prefixes = tokenizer.batch_decode([window[:-1] for window in windows], skip_special_tokens=False)
    texts = []
    for i, whole, prefix in zip(range(start, stop), wholes, prefixes):
        prefix, whole = prefix.rstrip(REPLACEMENT_CHAR), whole.rstrip(REPLACEMENT_CHAR)
        texts.append(whole[len(prefix):] if whole.startswith(prefix) else tokenizer.decode([ids[i]]))
    return texts


def lone_texts(tokenizer, token_ids: list[int]) -> dict[int, str]:
    """Each distinct id of token_ids decoded alone (tokenizer.decode([id])), in one batch_decode call."""
    distinct = sorted(set(token_ids))
    return dict(zip(distinct, tokenizer.batch_decode([[i] for i in distinct])))


def token_scores(lm: LoadedTextModel, ids: list[int], stats: TokenStatsArrays, start: int,
                 stop: int) -> list[TokenScore]:
    """TokenScore for positions start..stop-1 (start >= 1) of ids; stats row t describes ids[t + 1]."""
    if stop <= start:
        return []
    texts = token_texts(lm.tokenizer, ids, start, stop)
    special = set(lm.tokenizer.all_special_ids)
    rows = slice(start - 1, stop - 1)
    prob, logprob, entropy, rank, margin, top_ids, top_probs = (
        getattr(stats, f)[rows].tolist() for f in ("prob", "logprob", "entropy", "rank", "margin", "top_ids",
                                                    "top_probs"))
    alternative_texts = lone_texts(lm.tokenizer, [t for row in top_ids for t in row])
    scores = []
    for row, (text, position) in enumerate(zip(texts, range(start, stop))):
        top = [Alternative(text=alternative_texts[t], id=t, prob=p) for t, p in zip(top_ids[row], top_probs[row])]
        scores.append(TokenScore(position=position, text=text, id=ids[position], prob=prob[row],
                                 logprob=logprob[row], entropy=entropy[row], rank=rank[row], margin=margin[row],
                                 special=ids[position] in special, top_k=top))
    return scores


def mark_forced(tokens: list[TokenScore], count: int) -> list[TokenScore]:
    """The answer's tokens with the first `count` (the request's forced prefix) marked forced."""
    return [t.model_copy(update={"forced": True}) if i < count else t for i, t in enumerate(tokens)]


def analyze_text(lm: LoadedTextModel, request: TextRequest) -> TextAnalysis:
    """Generate (or take the given answer), then score every token of input and answer in one forward pass.

    The caller holds the model's lock. Probabilities are softmax(logits / request.temperature) over the full
    vocabulary. (A served model answers through its engine instead: the operations table's served pipeline,
    backend.served.text_analysis, with the server's top-k log-probabilities and entropy bounds.)
    """
    started = time.perf_counter()
    model_input, input_ids, used_template = build_model_input(lm, request.prompt, request.chat_template)
    answer_ids, stats = answer_and_stats(lm, input_ids, request)
    if request.answer is not None:
        stop_reason = "scored"
    else:
        stop_reason = "eos" if answer_ids and answer_ids[-1] in eos_ids(lm) else "max_new_tokens"
    ids = input_ids + answer_ids
    answer = mark_forced(token_scores(lm, ids, stats, len(input_ids), len(ids)), len(forced_ids(lm, request)))
    return TextAnalysis(
        model=lm.spec.id, prompt=request.prompt, model_input=model_input, chat_template=used_template,
        mode="score" if request.answer is not None else "generate",
        generated_text=lm.tokenizer.decode(answer_ids, skip_special_tokens=True), stop_reason=stop_reason,
        temperature=request.temperature, do_sample=request.do_sample, top_p=request.top_p, seed=request.seed,
        max_new_tokens=request.max_new_tokens, device=lm.device, ids=ids, answer_start=len(input_ids), tokens=answer,
        prompt_tokens=token_scores(lm, ids, stats, 1, len(input_ids)),
        summaries=summary_scores(answer),
        seconds=time.perf_counter() - started,
    )
