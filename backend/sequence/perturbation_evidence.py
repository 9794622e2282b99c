"""Gathering Inv-Entropy's evidence: the question's K samples (already drawn) beside K answers to each perturbed
prompt (backend.sequence.perturbation chooses them), from a model in UQ Lens's process or one served by an engine
(the served sampler is passed in by backend.served.sequence_analysis)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np

from backend.sequence.perturbation import PerturbationEvidence, perturbed_prompts
from backend.sequence.sampling import sample_answers
from backend.text.generation import build_model_input

if TYPE_CHECKING:
    from backend.sequence.pipeline import SequenceRun

Sampler = Callable[[list[str]], list[list[str]]]  # the P perturbed prompts -> each one's K answer texts


def gather_perturbation_evidence(run: "SequenceRun", sample: Sampler) -> None:
    """The run's perturbation evidence: its question's K samples (already drawn) beside K answers to each
    perturbed prompt (from `sample`); the prompts' embeddings those that chose them, the answers embedded in one
    call."""
    embedder = run.models.embedder
    prompts, prompt_vectors = perturbed_prompts(run.request.text.prompt.strip(), embedder.embed)
    answers = [list(run.evidence.sample_texts or []), *sample(prompts[1:])]
    flat = [text for group in answers for text in group]
    run.evidence.perturbation = PerturbationEvidence(prompts, answers, prompt_vectors,
                                                     np.asarray(embedder.embed(flat), dtype=np.float64))
    run.evidence.prompts["perturbations"] = "\n".join(prompts[1:])


def gather_perturbations(run: "SequenceRun") -> None:
    """gather_perturbation_evidence on an in-process model: each perturbed prompt (through the request's chat
    template choice) answered K times in one batched generate call, the i-th seeded with the request's seed + i."""
    lm, request = run.models.lm, run.request

    def answers(prompt: str, index: int) -> list[str]:
        ids = build_model_input(lm, prompt, request.text.chat_template)[1]
        drawn = sample_answers(lm, ids, k=request.samples, temperature=request.sample_temperature,
                               max_new_tokens=request.text.max_new_tokens, seed=request.text.seed + index)
        return [lm.tokenizer.decode(s.ids, skip_special_tokens=True).strip() for s in drawn]

    gather_perturbation_evidence(run, lambda prompts: [answers(p, i) for i, p in enumerate(prompts, 1)])
