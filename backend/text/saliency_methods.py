"""Registry of token saliency methods for causal LMs: what each is, its paper, cost and parameters.

Adding a method is one compute function, one entry in the `METHODS` registry and one test. The UI builds its controls
and explanations from this metadata. Every method returns scores (N, T) for N explained answer tokens over all T
input positions; the caller keeps, for the token at position p, the scores of positions 0..p-1.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Optional

import torch

from backend.analyses.text_saliency import (ScoreFn, feature_ablation, gradient_norm, input_x_gradient,
                                            causal_groups, integrated_gradients)
from backend.parameters import Parameter, ParameterValue, check_parameters
from backend.registry import Registry
from backend.text.saliency_prefix import unchanged_prefix
from backend.schemas.text_saliency import SaliencyMethodInfo

BASELINES: dict[str, str] = {
    "content_space": "keep the chat template and special tokens; replace the user's words and the answer by a "
                     "space token",
    "content_zero": "keep the chat template and special tokens; set the embeddings of the user's words and the "
                    "answer to zero",
    "prompt_space": "keep the chat template, special tokens and the answer; replace the user's words by a space "
                    "token (captum's LLMGradientAttribution path: how the prompt drives each answer token, the "
                    "answer's earlier tokens held; the answer's own columns stay 0)",
    "all_pad": "every token replaced by the padding token (integrated gradients often fail to converge from it)",
}
ABLATED_COLUMNS: dict[str, str] = {
    "prompt": "the prompt's tokens only (one pass each, as captum's LLMAttribution); the answer's own columns "
              "stay blank",
    "prompt_and_answer": "the prompt's tokens and the answer's earlier ones (one more pass per answer token): how "
                         "earlier answer tokens drive later ones",
}
ATTENTION_SOURCES: dict[str, str] = {
    "rollout": "attention rollout over all layers",
    "last_layer": "mean over the heads of the last layer",
}


@dataclass(frozen=True)
class SaliencyInputs:
    """What a method may use. embeddings: (T, D) input embeddings; score_fn: (B, T, D) -> (B, N) target values;
    positions: (N,) answer positions explained; answer_start: the answer's first position; baseline(name) ->
    (T, D) reference embeddings; attention(source) -> the (T, T) map of an ATTENTION_SOURCES entry; chunk:
    (target, sequence) pairs per batched backward pass; batch: sequences per forward pass without gradients;
    suffix_score(k, targets): a score_fn of the targets at the indices `targets` ((n,) into the N)
    over the positions k.. only, (B, L, D) -> (B, n) for any L past the last of their rows, the first k input
    embeddings run once and shared (for paths that leave them unchanged)."""

    embeddings: torch.Tensor
    score_fn: ScoreFn
    positions: torch.Tensor
    answer_start: int
    baseline: Callable[[str], torch.Tensor]
    attention: Callable[[str], torch.Tensor]
    chunk: int
    batch: int
    suffix_score: Callable[[int, torch.Tensor], ScoreFn]


@dataclass(frozen=True)
class SaliencyOutput:
    """scores (N, T); delta (N,) completeness gap (integrated gradients only); at_input / at_baseline (N,) the
    target at the input and at the baseline (methods with a baseline); passes actually run; scored_columns: the
    first input positions scored when not every position before a row is (occlusion of the prompt only), else
    None."""

    scores: torch.Tensor
    forward_sequences: int
    backward_passes: int
    delta: Optional[torch.Tensor] = None
    at_input: Optional[torch.Tensor] = None
    at_baseline: Optional[torch.Tensor] = None
    scored_columns: Optional[int] = None


@dataclass(frozen=True)
class SaliencyMethod:
    """A registry entry. signed: scores can be negative (evidence against the target); uses_target: whether the
    scores depend on the target at all; cost: forward/backward passes in words; cost_grows_with_tokens: whether
    every explained token adds passes (gradient methods) rather than all of them sharing the same ones."""

    name: str
    label: str
    description: str
    paper: str
    signed: bool
    uses_target: bool
    cost: str
    cost_grows_with_tokens: bool
    parameters: tuple[Parameter, ...]
    compute: Callable[[SaliencyInputs, dict[str, ParameterValue]], SaliencyOutput]

    def resolve(self, given: Mapping[str, object]) -> dict[str, ParameterValue]:
        """Every parameter's value: given ones checked against their ranges, the rest at their defaults;
        UserInputError naming the setting and what it allows."""
        return check_parameters(self.parameters, given, owner=self.label)

    def info(self) -> SaliencyMethodInfo:
        """The public view the UI builds its controls and explanations from."""
        higher_is = ("positive = pushes the target up, negative = pulls it down" if self.signed
                     else "higher = more influence (>= 0, no direction)")
        return SaliencyMethodInfo(name=self.name, label=self.label, description=self.description, paper=self.paper,
                                  signed=self.signed, uses_target=self.uses_target, higher_is=higher_is,
                                  cost=self.cost, cost_grows_with_tokens=self.cost_grows_with_tokens,
                                  parameters=[p.info() for p in self.parameters])


def _gradient_norm(inputs: SaliencyInputs, params: dict[str, ParameterValue]) -> SaliencyOutput:
    scores = gradient_norm(inputs.score_fn, inputs.embeddings, chunk=inputs.chunk)
    return SaliencyOutput(scores=scores, forward_sequences=1, backward_passes=len(inputs.positions))


def _input_x_gradient(inputs: SaliencyInputs, params: dict[str, ParameterValue]) -> SaliencyOutput:
    scores = input_x_gradient(inputs.score_fn, inputs.embeddings, chunk=inputs.chunk)
    return SaliencyOutput(scores=scores, forward_sequences=1, backward_passes=len(inputs.positions))


def _integrated_gradients(inputs: SaliencyInputs, params: dict[str, ParameterValue]) -> SaliencyOutput:
    """Integrated gradients of every target: the positions the path leaves unchanged at the start run once
    (saliency_prefix) and the targets run in causal_groups, each group over the prefix its members need (the same
    scores: a causal LM's target does not see the positions after it)."""
    steps = int(params["steps"])
    baseline = inputs.baseline(str(params["baseline"]))
    count = len(inputs.positions)
    shared = unchanged_prefix(inputs.embeddings, baseline, int(inputs.positions.min()) - 1)
    scores = torch.zeros(count, inputs.embeddings.shape[0])
    delta, at_input, at_baseline = (torch.zeros(count, dtype=torch.float64) for _ in range(3))
    needed = (inputs.positions - shared).tolist()  # target n reads the logits of position p - 1
    groups = causal_groups(needed)
    for group in groups:
        members = torch.tensor(group)
        end = shared + max(needed[n] for n in group)
        result = integrated_gradients(inputs.suffix_score(shared, members), inputs.embeddings[shared:end],
                                      baseline[shared:end], steps=steps, alpha_batch=inputs.batch,
                                      chunk=inputs.chunk)
        scores[members, shared:end] = result.scores.float().cpu()
        delta[members] = result.delta.double().cpu()
        at_input[members] = result.at_input.double().cpu()
        at_baseline[members] = result.at_baseline.double().cpu()
    return SaliencyOutput(scores=scores, forward_sequences=len(groups) * (steps + 2),
                          backward_passes=steps * count, delta=delta, at_input=at_input, at_baseline=at_baseline)


def _occlusion(inputs: SaliencyInputs, params: dict[str, ParameterValue]) -> SaliencyOutput:
    baseline = inputs.baseline(str(params["baseline"]))
    last = int(inputs.positions.max())
    stop = min(inputs.answer_start, last) if params["ablate"] == "prompt" else last
    with torch.no_grad():
        ends = inputs.score_fn(torch.stack([inputs.embeddings, baseline])).double()
    scores = feature_ablation(inputs.score_fn, inputs.embeddings, baseline, stop=stop, batch=inputs.batch,
                              reference=ends[0])
    return SaliencyOutput(scores=scores, forward_sequences=stop + 2, backward_passes=0, at_input=ends[0].cpu(),
                          at_baseline=ends[1].cpu(), scored_columns=stop if stop < last else None)


def _attention(inputs: SaliencyInputs, params: dict[str, ParameterValue]) -> SaliencyOutput:
    rows = inputs.attention(str(params["source"]))[inputs.positions - 1].to(torch.float64).cpu()
    return SaliencyOutput(scores=rows, forward_sequences=1, backward_passes=0)


BASELINE_PARAMETER = Parameter(name="baseline", label="Baseline", kind="choice", default="content_space",
                               help="the reference input the scores are measured against", choices=BASELINES)
PER_TOKEN_GRADIENT_COST = "1 forward + 1 backward pass per explained token (batched)"
METHODS: Registry[SaliencyMethod] = Registry("saliency method")
for _method in (
    SaliencyMethod(
        "gradient_norm", "Gradient L2 norm",
        "How sensitive the target is to each input token: the L2 norm of the target's gradient with respect to "
        "the token's embedding. Unsigned (>= 0); cheap; says nothing about direction.",
        "Simonyan et al., Deep Inside Convolutional Networks (2014); Li et al., Visualizing and Understanding "
        "Neural Models in NLP (NAACL 2016)",
        signed=False, uses_target=True, cost=PER_TOKEN_GRADIENT_COST, cost_grows_with_tokens=True,
        parameters=(), compute=_gradient_norm),
    SaliencyMethod(
        "input_x_gradient", "Input x gradient",
        "Embedding times gradient, summed over the embedding: a first-order estimate of each token's "
        "contribution. Signed: positive pushes the target up.",
        "Shrikumar et al., Not Just a Black Box: Learning Important Features Through Propagating Activation "
        "Differences (2016)",
        signed=True, uses_target=True, cost=PER_TOKEN_GRADIENT_COST, cost_grows_with_tokens=True, parameters=(),
        compute=_input_x_gradient),
    SaliencyMethod(
        "integrated_gradients", "Integrated gradients",
        "Gradients averaged along the straight path from a baseline input to the real one, times the difference. "
        "Signed; the scores add up to target(input) - target(baseline), and the convergence delta says how far "
        "they miss (raise the steps when it is large).",
        "Sundararajan et al., Axiomatic Attribution for Deep Networks (ICML 2017)",
        signed=True, uses_target=True,
        cost="steps + 2 forward passes and steps backward passes per explained token (batched)",
        cost_grows_with_tokens=True,
        parameters=(Parameter(name="steps", label="Steps", kind="int", default=64, minimum=4, maximum=256,
                              help="points on the path (Gauss-Legendre quadrature); more steps, smaller "
                                   "convergence delta, proportionally slower (64 by default: 32 left 9-30 % of "
                                   "the change unexplained on the default model, see bench/ig_convergence.py)"),
                    BASELINE_PARAMETER),
        compute=_integrated_gradients),
    SaliencyMethod(
        "occlusion", "Occlusion (feature ablation)",
        "Replace one input token at a time by the baseline and measure how much the target drops. Signed: "
        "positive = the target falls without this token. Exact effect of each token alone, no gradients.",
        "Zeiler & Fergus, Visualizing and Understanding Convolutional Networks (ECCV 2014)",
        signed=True, uses_target=True,
        cost="1 forward pass per ablated input token, shared by all explained tokens (batched)",
        cost_grows_with_tokens=False,
        parameters=(BASELINE_PARAMETER,
                    Parameter(name="ablate", label="Ablate", kind="choice", default="prompt",
                              help="which input tokens to ablate (each one costs a forward pass)",
                              choices=ABLATED_COLUMNS)),
        compute=_occlusion),
    SaliencyMethod(
        "attention", "Attention weight",
        "The attention of the step that produced the token over the earlier tokens. Unsigned, rows sum to 1. "
        "It does not depend on the target: it shows where the model looked, not what changed its output.",
        "Abnar & Zuidema, Quantifying Attention Flow in Transformers (ACL 2020)",
        signed=False, uses_target=False, cost="1 forward pass, shared by all explained tokens",
        cost_grows_with_tokens=False,
        parameters=(Parameter(name="source", label="Attention", kind="choice", default="rollout",
                              help="which attention map to read", choices=ATTENTION_SOURCES),),
        compute=_attention),
):
    METHODS.register(_method)
