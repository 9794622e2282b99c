"""Asking the model about its own answer: a stated confidence number, and P(True).

Both put a question about the answer to the same model, through its chat template when the analysed request used
one (see backend.analyses.self_report for the prompts and how replies are read).
"""
from __future__ import annotations

from typing import Iterable, Optional

import torch

from backend.analyses.evidence import VERBALIZED_MAX_NEW_TOKENS
from backend.analyses.self_report import FALSE_WORDS, TRUE_WORDS, p_true_prompt, verbalized_prompt
from backend.models.text_loader import LoadedTextModel
from backend.text.generation import build_model_input, eos_ids, pad_id
from backend.text.passes import budget_criteria


def ask_confidence(lm: LoadedTextModel, question: str, answer: str, chat_template: Optional[bool]) -> tuple[str, str]:
    """(the exact model input, the model's greedy reply of at most VERBALIZED_MAX_NEW_TOKENS tokens)."""
    model_input, ids, _ = build_model_input(lm, verbalized_prompt(question, answer), chat_template)
    prompt = torch.tensor([ids], device=lm.device)
    with torch.inference_mode():
        out = lm.model.generate(prompt, attention_mask=torch.ones_like(prompt), do_sample=False, temperature=None,
                                top_p=None, top_k=None, max_new_tokens=VERBALIZED_MAX_NEW_TOKENS,
                                eos_token_id=sorted(eos_ids(lm)) or None, pad_token_id=pad_id(lm),
                                stopping_criteria=budget_criteria(len(ids), VERBALIZED_MAX_NEW_TOKENS))
    return model_input, lm.tokenizer.decode(out[0, len(ids):], skip_special_tokens=True).strip()


def single_token_ids(lm: LoadedTextModel, words: Iterable[str]) -> list[int]:
    """Distinct ids of the words that are one token each (other spellings cannot be read from one step)."""
    found = []
    for word in words:
        ids = lm.tokenizer(word, add_special_tokens=False)["input_ids"]
        if len(ids) == 1 and ids[0] not in found:
            found.append(ids[0])
    return found


def ask_p_true(lm: LoadedTextModel, question: str, answer: str,
               chat_template: Optional[bool]) -> tuple[str, float, float]:
    """(the exact model input, p(True), p(False)): next-token probabilities at temperature 1, each summed over the
    one-token spellings of the word (True, " True", true, " true")."""
    model_input, ids, _ = build_model_input(lm, p_true_prompt(question, answer), chat_template)
    with torch.inference_mode():
        tensor = torch.tensor([ids], device=lm.device)
        logits = lm.model(input_ids=tensor, attention_mask=torch.ones_like(tensor)).logits[0, -1]
    probs = torch.softmax(logits.to(torch.float64), dim=-1).cpu()
    true_ids, false_ids = single_token_ids(lm, TRUE_WORDS), single_token_ids(lm, FALSE_WORDS)
    if not true_ids or not false_ids:
        raise ValueError(f"the tokenizer of {lm.spec.id} has no single token for True or False")
    return model_input, float(probs[true_ids].sum()), float(probs[false_ids].sum())
