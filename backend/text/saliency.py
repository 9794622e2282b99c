"""Saliency of an analysed sequence's answer tokens: wires a causal LM to the registered methods and targets.

Every method works on the input embeddings of the whole sequence at once; the target of the answer token at
position p reads the logits of position p - 1 only (`logits_to_keep`), so all explained tokens share the forward
passes. Baselines keep the chat template and special tokens and replace the user's words and the answer, since an
all-padding baseline leaves integrated gradients far from converged on chat models; the leading positions such a
baseline keeps (the template's opening) are run once and shared by every path point (saliency_prefix). Batches are
sized to the request's memory budget (saliency_budget); the parameters are frozen while the methods differentiate
with respect to the input embeddings. The caller holds the model's lock; the model is back in eval mode afterwards.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import replace
from typing import Callable, Iterator, Optional

import torch

from backend.analyses.text_saliency import normalise_rows
from backend.text.saliency_methods import METHODS, SaliencyInputs, SaliencyMethod, SaliencyOutput
from backend.text.saliency_targets import NORMALISATIONS, TARGETS, SaliencyTarget
from backend.budget import checkpoint
from backend.errors import UserInputError
from backend.models.text_loader import LoadedTextModel
from backend.schemas.text import Alternative
from backend.schemas.text_saliency import SaliencyCatalog, SaliencyRow, TextSaliency, TextSaliencyRequest
from backend.text.attention import summary_map
from backend.text.positions import check_ids, input_tokens
from backend.text.saliency_budget import budget_bytes, chunk_sizes
from backend.text.saliency_prefix import cached_prefix_logits


def catalog() -> SaliencyCatalog:
    """The registered methods, targets and normalisations, as the UI builds its controls from them."""
    return SaliencyCatalog(methods=[m.info() for m in METHODS], targets=[t.info() for t in TARGETS],
                           normalisations={n.name: n.description for n in NORMALISATIONS})


def resolve(request: TextSaliencyRequest) -> tuple[SaliencyMethod, SaliencyTarget, dict]:
    """The method, target and full parameters a request names, or UserInputError saying what to change."""
    method = METHODS.get(request.method)
    parameters = method.resolve(request.parameters)
    return method, TARGETS.get(request.target), parameters


def runner_up(logits: torch.Tensor, chosen: torch.Tensor) -> torch.Tensor:
    """(N,) the most likely token other than the chosen one, from logits (N, V)."""
    top2 = logits.topk(2, dim=-1).indices
    return torch.where(top2[:, 0] == chosen.to(top2.device), top2[:, 1], top2[:, 0]).cpu()


@contextmanager
def frozen_parameters(model: torch.nn.Module) -> Iterator[None]:
    """The model's parameters without gradients inside the block (the methods differentiate with respect to the
    input embeddings only, so the forward keeps no activations for weight gradients), restored afterwards."""
    flags = [(p, p.requires_grad) for p in model.parameters()]
    for parameter, _ in flags:
        parameter.requires_grad_(False)
    try:
        yield
    finally:
        for parameter, flag in flags:
            parameter.requires_grad_(flag)


def all_pad_id(lm: LoadedTextModel) -> int:
    """The token the all_pad baseline puts everywhere: the padding token, else the end-of-sequence token."""
    tokenizer = lm.tokenizer
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id


def baseline_builder(lm: LoadedTextModel, ids: torch.Tensor, keep: torch.Tensor, answer_start: int,
                     embed: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[str], torch.Tensor]:
    """baseline(name) -> (T, D) reference embeddings. keep: (T,) bool, positions every content baseline keeps
    (the chat template and special tokens); answer_start: the answer's first position (prompt_space keeps the
    answer too)."""
    pad = all_pad_id(lm)
    space = lm.tokenizer(" ", add_special_tokens=False)["input_ids"]
    filler = space[-1] if space else pad
    kept = keep.to(ids.device)

    def spaced(kept_positions: torch.Tensor) -> torch.Tensor:
        return embed(torch.where(kept_positions, ids, torch.full_like(ids, filler)))

    def baseline(name: str) -> torch.Tensor:
        if name == "all_pad":
            return embed(torch.full_like(ids, pad))
        if name == "content_space":
            return spaced(kept)
        if name == "prompt_space":
            return spaced(kept | (torch.arange(len(ids), device=ids.device) >= answer_start))
        if name == "content_zero":
            return embed(ids) * kept[:, None]
        raise UserInputError(f"unknown baseline {name!r}")
    return baseline


def alternatives_for(lm: LoadedTextModel, ids: torch.Tensor, rows: torch.Tensor, chosen: torch.Tensor,
                     alternative_id: Optional[int], temperature: float) -> list[Alternative]:
    """The alternative of each explained token: the named id, else its most likely other token; with the
    alternative's probability at the temperature."""
    with torch.no_grad():
        logits = lm.model(input_ids=ids[None], logits_to_keep=rows).logits[0].float()
    picked = torch.tensor([alternative_id]) if alternative_id is not None else runner_up(logits, chosen)
    probs = torch.softmax(logits / temperature, dim=-1).gather(1, picked.to(logits.device)[:, None])[:, 0]
    return [Alternative(text=lm.tokenizer.decode([int(i)]), id=int(i), prob=float(p)) for i, p in zip(picked, probs)]


def explain(lm: LoadedTextModel, request: TextSaliencyRequest, method: SaliencyMethod, target: SaliencyTarget,
            parameters: dict, positions: list[int], keep: torch.Tensor, budget: int
            ) -> tuple[SaliencyOutput, Optional[list[Alternative]]]:
    """Run the method with its batches sized to `budget` bytes: its output (with the target at the input filled
    in where the method uses a target) and the alternatives compared, if the target compares one."""
    model = lm.model
    ids = torch.tensor(request.ids, device=lm.device)
    rows = torch.tensor(positions, device=lm.device) - 1
    chosen = ids[rows + 1]
    embed = model.get_input_embeddings()
    alternatives = alternatives_for(lm, ids, rows, chosen, request.alternative_id, request.temperature) \
        if target.needs_alternative else None
    other = torch.tensor([a.id for a in alternatives], device=lm.device) if alternatives else chosen

    def scores_of(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return target.value(torch.log_softmax(logits.float() / request.temperature, dim=-1), chosen[targets],
                            other[targets])

    prefixes: dict[int, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {}

    def suffix_score(k: int, targets: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
        if k and k not in prefixes:
            prefixes[k] = cached_prefix_logits(model, embeddings[:k])
        targets = targets.to(lm.device)

        def score(x: torch.Tensor) -> torch.Tensor:
            checkpoint()
            if k:
                return scores_of(prefixes[k](x, rows[targets] - k), targets)
            mask = torch.ones(x.shape[:2], dtype=torch.long, device=x.device)
            return scores_of(model(inputs_embeds=x, attention_mask=mask, logits_to_keep=rows[targets]).logits,
                             targets)
        return score

    score_fn = suffix_score(0, torch.arange(len(positions)))
    chunk, batch = chunk_sizes(lm, len(request.ids), budget, rows=len(positions))
    with torch.no_grad():
        embeddings = embed(ids).detach()
    inputs = SaliencyInputs(embeddings=embeddings, score_fn=score_fn, positions=torch.tensor(positions),
                            answer_start=request.answer_start,
                            baseline=baseline_builder(lm, ids, keep, request.answer_start,
                                                             lambda t: embed(t).detach()),
                            attention=lambda source: summary_map(lm, request.ids, source), chunk=chunk, batch=batch,
                            suffix_score=suffix_score)
    try:
        with frozen_parameters(model):
            output = method.compute(inputs, parameters)
        if output.at_input is None and method.uses_target:
            with torch.no_grad():
                output = replace(output, at_input=score_fn(embeddings[None])[0].double().cpu())
    finally:
        model.eval()
    return output, alternatives


def text_saliency(lm: LoadedTextModel, request: TextSaliencyRequest) -> TextSaliency:
    """Saliency of the requested answer tokens over the tokens before each (see the module docstring)."""
    started = time.perf_counter()
    check_ids(lm, request.ids)
    method, target, parameters = resolve(request)
    positions = request.positions or list(range(request.answer_start, len(request.ids)))
    if request.alternative_id is not None and request.alternative_id >= lm.model.get_input_embeddings().num_embeddings:
        raise UserInputError(f"alternative token id {request.alternative_id} is not in the vocabulary")
    tokens = input_tokens(lm, request.ids, request.answer_start)
    keep = torch.tensor([t.kind == "template" or t.special for t in tokens])
    budget = budget_bytes(lm.device, request.memory_budget_mib)
    output, alternatives = explain(lm, request, method, target, parameters, positions, keep, budget)
    scored = output.scored_columns
    raw = [output.scores[n, :p if scored is None else min(p, scored)].double().cpu() for n, p in enumerate(positions)]
    normalisation = NORMALISATIONS.get(request.normalisation)
    scaled, divisors = normalise_rows(raw, normalisation.divisor)
    rows = []
    for n, position in enumerate(positions):
        rows.append(SaliencyRow(
            position=position, text=tokens[position].text, target_value=None if output.at_input is None else float(output.at_input[n]),
            baseline_value=None if output.at_baseline is None else float(output.at_baseline[n]),
            alternative=alternatives[n] if alternatives else None,
            scores=scaled[n].tolist(), scale=divisors[n],
            convergence_delta=None if output.delta is None else float(output.delta[n])))
    return TextSaliency(
        model=lm.spec.id, method=method.name, method_label=method.label, signed=method.signed,
        target=target.name if method.uses_target else "none",
        target_label=target.label if method.uses_target else "none (attention does not depend on a target)",
        target_higher_is=target.higher_is if method.uses_target else None, temperature=request.temperature,
        parameters=parameters, normalisation=request.normalisation,
        normalisation_description=normalisation.description, answer_start=request.answer_start,
        tokens=tokens, rows=rows, forward_sequences=output.forward_sequences,
        backward_passes=output.backward_passes, memory_budget_mib=budget / (1 << 20), seconds=time.perf_counter() - started)
