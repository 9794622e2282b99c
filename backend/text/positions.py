"""The positions of an analysed sequence as attention and saliency views show them: each token's text, whether it
is special, whether it belongs to the chat template, the user's prompt or the answer, and the word it is part of.
"""
from __future__ import annotations

from typing import Optional, Sequence

from backend.analyses.words import word_ids
from backend.errors import UserInputError
from backend.models.text_loader import LoadedTextModel
from backend.schemas.text_attention import InputToken, TokenKind
from backend.text.generation import token_texts

SENTINELS = ("A", "B")


def check_ids(lm: LoadedTextModel, ids: Sequence[int]) -> None:
    """Refuse ids the model cannot read: out of its vocabulary, or longer than its context."""
    vocabulary = lm.model.get_input_embeddings().num_embeddings
    unknown = sorted({i for i in ids if i >= vocabulary})
    if unknown:
        raise UserInputError(f"token ids {unknown[:5]} are not in the vocabulary of {lm.spec.id} ({vocabulary} "
                             f"tokens); pass the ids of an analysis made with this model")
    if len(ids) > lm.max_length:
        raise UserInputError(f"{len(ids)} tokens, but {lm.spec.id} reads at most {lm.max_length}; analyse a shorter "
                             f"text")


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """Length of the longest common prefix of two id lists."""
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def content_bounds(lm: LoadedTextModel, input_ids: Sequence[int]) -> Optional[tuple[int, int]]:
    """(first, stop) of the user's message inside input_ids when they are the chat template around one user turn;
    None when no template was used.

    The template's scaffold is what two renderings with different one-letter messages share at the start and at
    the end; input_ids must start and end with that scaffold.
    """
    if not lm.has_chat_template:
        return None
    rendered = [lm.tokenizer(lm.tokenizer.apply_chat_template([{"role": "user", "content": s}], tokenize=False,
                                                              add_generation_prompt=True),
                             add_special_tokens=False)["input_ids"] for s in SENTINELS]
    head = _common_prefix(*rendered)
    tail = _common_prefix(rendered[0][::-1], rendered[1][::-1])
    if head == 0 or head + tail > len(input_ids):
        return None
    if list(input_ids[:head]) != rendered[0][:head] or (tail and list(input_ids[-tail:]) != rendered[0][-tail:]):
        return None
    return head, len(input_ids) - tail


def token_kinds(lm: LoadedTextModel, ids: Sequence[int], answer_start: int) -> list[TokenKind]:
    """template / prompt / answer for each position (special tokens of the input count as template)."""
    special = set(lm.tokenizer.all_special_ids)
    bounds = content_bounds(lm, ids[:answer_start])
    first, stop = bounds if bounds else (0, answer_start)
    kinds: list[TokenKind] = []
    for position, token in enumerate(ids):
        if position >= answer_start:
            kinds.append("answer")
        elif first <= position < stop and token not in special:
            kinds.append("prompt")
        else:
            kinds.append("template")
    return kinds


def input_tokens(lm: LoadedTextModel, ids: Sequence[int], answer_start: int) -> list[InputToken]:
    """Every position of the sequence with its text, kind and word (answer words never merge with the prompt)."""
    ids = list(ids)
    texts = token_texts(lm.tokenizer, ids, 0, len(ids))
    special_ids = set(lm.tokenizer.all_special_ids)
    special = [i in special_ids for i in ids]
    words = word_ids(texts, special, breaks=[answer_start])
    return [InputToken(position=p, text=t, id=i, special=s, kind=k, word=w)
            for p, (t, i, s, k, w) in enumerate(zip(texts, ids, special, token_kinds(lm, ids, answer_start), words))]
