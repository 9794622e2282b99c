"""Inv-Entropy's evidence and registry entry: the question perturbed, each perturbation answered K times, the
questions and answers embedded (backend.analyses.inv_entropy has the numbers).

The paper perturbs the question with an LLM's paraphrases, chosen for diversity by a genetic search (GAAP). UQ
Lens runs offline on any model, so it perturbs by rule instead: meaning-keeping rewordings of the question (a
framing added before or after it, its closing punctuation dropped, a filler word removed), of which the
PERTURBED_PROMPTS most different from the question and from each other (by the embedding model, farthest first)
are kept, a one-round stand-in for GAAP's diversity search. The perturbed prompts are shown with their answers.
Gathering (in-process and served) is in backend.sequence.perturbation_evidence.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from backend.analyses import inv_entropy as inv
from backend.analyses.evidence import PERTURBATION_CANDIDATES, PERTURBED_PROMPTS, Evidence
from backend.sequence.method_spec import MethodResult, MethodSpec

FRAMES_BEFORE = ("Question: ", "Please answer this: ", "I would like to know: ", "Tell me: ")
FRAMES_AFTER = (" Answer briefly.", " Be precise.", " Reply in a few words.")
FILLER_WORDS = ("please", "exactly", "really", "actually", "just", "the", "a")


@dataclass(frozen=True)
class PerturbationEvidence:
    """prompts: the question first, then its perturbations (P + 1,); answers: each prompt's K answer texts;
    prompt_embeddings (P + 1, d) and answer_embeddings (N = (P + 1) K, d) from the embedding model."""

    prompts: list[str]
    answers: list[list[str]]
    prompt_embeddings: np.ndarray
    answer_embeddings: np.ndarray


def _without_word(prompt: str, word: str) -> str:
    """The prompt with the first whole-word `word` (any case) removed, spaces tidied ('' when absent)."""
    found = re.search(rf"\b{re.escape(word)}\b\s*", prompt, flags=re.IGNORECASE)
    return "" if found is None else (prompt[:found.start()] + prompt[found.end():]).strip()


def perturbation_candidates(prompt: str) -> list[str]:
    """Meaning-keeping rewordings of `prompt` (at most PERTURBATION_CANDIDATES), distinct from it and from each
    other, in a fixed order."""
    question = prompt.strip()
    lowered = question[:1].lower() + question[1:]
    bare = question.rstrip("?.! ")
    candidates = [frame + (lowered if frame.endswith(": ") else question) for frame in FRAMES_BEFORE]
    candidates += [question + frame for frame in FRAMES_AFTER]
    candidates += [bare, *(_without_word(question, word) for word in FILLER_WORDS)]
    return [c for c in dict.fromkeys(candidates) if c and c != question][:PERTURBATION_CANDIDATES]


def farthest_first(similarity: np.ndarray, count: int) -> list[int]:
    """Indices of `count` rows 1.. of a (n, n) similarity chosen greedily, each the least similar to row 0 and the
    rows chosen before it (its largest similarity to them the smallest; ties: the earlier row)."""
    chosen: list[int] = [0]
    remaining = list(range(1, len(similarity)))
    while remaining and len(chosen) <= count:
        closest = [max(similarity[r, c] for c in chosen) for r in remaining]
        chosen.append(remaining.pop(int(np.argmin(closest))))
    return chosen[1:]


def perturbed_prompts(prompt: str, embed: Callable[[Sequence[str]], np.ndarray],
                      count: int = PERTURBED_PROMPTS) -> tuple[list[str], np.ndarray]:
    """(the prompt, then the `count` candidates (perturbation_candidates) most different from it and each other;
    their embeddings (count + 1, d), float64, from the one embedding call that chose them)."""
    texts = [prompt.strip(), *perturbation_candidates(prompt)]
    vectors = np.asarray(embed(texts), dtype=np.float64)
    picked = [0, *farthest_first(inv.abs_cosine(vectors), count)]
    return [texts[i] for i in picked], vectors[picked]


def _inv_entropy(ev: Evidence, _: Mapping[str, float]) -> MethodResult:
    found = ev.perturbation
    if found is None:
        raise ValueError("no perturbed prompts were answered")
    inputs = inv.pair_inputs([len(group) for group in found.answers])
    model = inv.inverse_model(inv.abs_cosine(found.prompt_embeddings[inputs]),
                              inv.abs_cosine(found.answer_embeddings))
    value, pairs = inv.inv_entropy(model["q"]), len(inputs)
    return MethodResult(value, value / (pairs / np.e), {
        "prompts": found.prompts, "answers": found.answers, "pair_prompt": inputs.tolist(),
        "q": model["q"].tolist(), "p_y": model["p_y"].tolist(), "p_x": model["p_x"].tolist(),
        "posterior_by_prompt": inv.posterior_by_prompt(model["p_x_given_y"], inputs, len(found.prompts)).tolist()})


INV_ENTROPY = MethodSpec(
    "inv_entropy", "Inv-Entropy", "samples",
    f"The question and {PERTURBED_PROMPTS} rule-based rewordings of it, each answered K times; random walks over "
    "the (question, answer) pairs by embedding similarity give the inverse model p(question | answer); the value "
    "is -sum q ln q over each answer's probability q of its own question.",
    "Song et al., Inv-Entropy: A Fully Probabilistic Framework for Uncertainty Quantification in Language Models "
    "(NeurIPS 2025)", "uncertain", "[0, N/e] nats, N = pairs", "value / (N/e): its largest possible value",
    f"{PERTURBED_PROMPTS} more batched generate calls of K answers each (one per perturbed prompt); "
    f"the candidate rewordings and N answers embedded (off at first on the Sequence page: about "
    f"{PERTURBED_PROMPTS} times the samples' cost)", ("samples", "perturbations"), _inv_entropy, on_by_default=False)
