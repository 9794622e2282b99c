"""Token saliency through a causal LM: the batched rows equal captum run token by token on each prefix, the
targets equal the analysis's own numbers, and integrated gradients' completeness holds to the reported delta."""
from __future__ import annotations

import math

import pytest
import torch
from captum.attr import FeatureAblation, InputXGradient, IntegratedGradients, Saliency
from pydantic import ValidationError

from backend.errors import UserInputError
from backend.schemas import TextRequest
from backend.schemas.text_attention import TextAttentionRequest
from backend.schemas.text_saliency import TextSaliencyRequest
from backend.text.attention import attention_maps
from backend.text.generation import analyze_text
from backend.text.saliency import catalog, text_saliency

PROMPT = "Name a colour."


@pytest.fixture(scope="module")
def analysis(tiny_lm):
    return analyze_text(tiny_lm, TextRequest(model="tiny-random", prompt=PROMPT, max_new_tokens=4, temperature=1.5))


def explain(lm, analysis, method: str, **fields):
    fields = {"normalisation": "none", **fields}
    return text_saliency(lm, TextSaliencyRequest(model=analysis.model, ids=analysis.ids,
                                                 answer_start=analysis.answer_start, method=method,
                                                 temperature=analysis.temperature, **fields))


def prefix_target(lm, analysis, position: int):
    """captum's forward function on the prefix of `position`: log p(token at position), at the temperature."""
    def forward(embeddings: torch.Tensor) -> torch.Tensor:
        logits = lm.model(inputs_embeds=embeddings).logits[:, -1] / analysis.temperature
        return torch.log_softmax(logits, dim=-1)[:, analysis.ids[position]]
    embed = lm.model.get_input_embeddings()
    return forward, embed(torch.tensor([analysis.ids[:position]])).detach()


@pytest.mark.parametrize("method, reference", [
    ("input_x_gradient", lambda f, x: InputXGradient(f).attribute(x).sum(dim=-1)),
    ("gradient_norm", lambda f, x: Saliency(f).attribute(x, abs=False).norm(dim=-1))])
def test_gradient_methods_equal_captum_token_by_token(tiny_lm, analysis, method, reference):
    result = explain(tiny_lm, analysis, method)
    assert [r.position for r in result.rows] == list(range(analysis.answer_start, len(analysis.ids)))
    for row in result.rows:
        forward, embeddings = prefix_target(tiny_lm, analysis, row.position)
        assert row.scores == pytest.approx(reference(forward, embeddings)[0].tolist(), abs=1e-5)
        assert row.scale == 1.0


def test_integrated_gradients_equal_captum_and_hold_completeness_to_their_delta(tiny_lm, analysis):
    result = explain(tiny_lm, analysis, "integrated_gradients", parameters={"steps": 8, "baseline": "content_zero"})
    keep = torch.tensor([t.kind == "template" or t.special for t in result.tokens])
    for row in result.rows:
        forward, embeddings = prefix_target(tiny_lm, analysis, row.position)
        baseline = embeddings * keep[:row.position, None]
        reference = IntegratedGradients(forward).attribute(embeddings, baselines=baseline, n_steps=8)
        assert row.scores == pytest.approx(reference[0].sum(dim=-1).tolist(), abs=1e-5)
        with torch.no_grad():
            at_input, at_baseline = float(forward(embeddings)), float(forward(baseline))
        assert row.target_value == pytest.approx(at_input, abs=1e-5)
        assert row.baseline_value == pytest.approx(at_baseline, abs=1e-5)
        assert sum(row.scores) - (at_input - at_baseline) == pytest.approx(row.convergence_delta, abs=1e-5)
        assert [s for s, t in zip(row.scores, result.tokens) if t.kind == "template"] == \
            pytest.approx([0.0] * int(keep[:row.position].sum()))


def test_occlusion_equals_captum_feature_ablation(tiny_lm, analysis):
    result = explain(tiny_lm, analysis, "occlusion",
                     parameters={"baseline": "content_space", "ablate": "prompt_and_answer"})
    embed = tiny_lm.model.get_input_embeddings()
    space = tiny_lm.tokenizer(" ", add_special_tokens=False)["input_ids"][-1]
    for row in result.rows:
        forward, embeddings = prefix_target(tiny_lm, analysis, row.position)
        ids = torch.tensor([analysis.ids[:row.position]])
        kept = torch.tensor([[t.kind == "template" or t.special for t in result.tokens[:row.position]]])
        baseline = embed(torch.where(kept, ids, torch.full_like(ids, space))).detach()
        mask = torch.arange(row.position)[:, None].expand(-1, embeddings.shape[-1])[None]
        reference = FeatureAblation(forward).attribute(embeddings, baselines=baseline, feature_mask=mask,
                                                       perturbations_per_eval=row.position)
        assert row.scores == pytest.approx(reference[0, :, 0].tolist(), abs=1e-5)


def test_occlusion_of_the_prompt_only_gives_the_prompt_columns_of_the_full_run_in_fewer_passes(tiny_lm, analysis):
    full = explain(tiny_lm, analysis, "occlusion", parameters={"baseline": "all_pad", "ablate": "prompt_and_answer"})
    prompt = explain(tiny_lm, analysis, "occlusion", parameters={"baseline": "all_pad"})
    assert prompt.parameters["ablate"] == "prompt"
    start, last = analysis.answer_start, len(analysis.ids) - 1
    assert [len(r.scores) for r in prompt.rows] == [start] * len(prompt.rows)
    assert [len(r.scores) for r in full.rows] == [r.position for r in full.rows]
    for short, whole in zip(prompt.rows, full.rows):
        assert short.scores == pytest.approx(whole.scores[:start], abs=1e-5)
        assert short.target_value == pytest.approx(whole.target_value, abs=1e-6)
    assert (prompt.forward_sequences, full.forward_sequences) == (start + 2, last + 2)


def test_targets_equal_the_analysis_numbers(tiny_lm, analysis):
    logprob = explain(tiny_lm, analysis, "input_x_gradient", target="logprob")
    entropy = explain(tiny_lm, analysis, "input_x_gradient", target="entropy")
    assert [r.target_value for r in logprob.rows] == pytest.approx([t.logprob for t in analysis.tokens], abs=1e-4)
    assert [r.target_value for r in entropy.rows] == pytest.approx([t.entropy for t in analysis.tokens], abs=1e-4)
    assert entropy.target_higher_is == "uncertain" and logprob.target_higher_is == "confident"


def test_contrast_with_the_runner_up_or_a_named_alternative(tiny_lm, analysis):
    result = explain(tiny_lm, analysis, "gradient_norm", target="contrast")
    for row, token in zip(result.rows, analysis.tokens):
        runner_up = next(a for a in token.top_k if a.id != token.id)
        assert row.alternative.id == runner_up.id
        assert row.alternative.prob == pytest.approx(runner_up.prob, abs=1e-5)
        assert row.target_value == pytest.approx(token.logprob - math.log(runner_up.prob), abs=1e-4)
    token = analysis.tokens[1]
    named = explain(tiny_lm, analysis, "gradient_norm", target="alternative", positions=[token.position],
                    alternative_id=token.top_k[-1].id)
    assert named.rows[0].alternative.id == token.top_k[-1].id
    assert named.rows[0].target_value == pytest.approx(math.log(token.top_k[-1].prob), abs=1e-4)


def test_attention_method_reads_the_rollout(tiny_lm, analysis):
    result = explain(tiny_lm, analysis, "attention", normalisation="max_abs")
    rollout = attention_maps(tiny_lm, TextAttentionRequest(model=analysis.model, ids=analysis.ids,
                                                           answer_start=analysis.answer_start)).rollout
    assert result.target == "none" and result.target_higher_is is None and not result.signed
    for row, expected in zip(result.rows, rollout):
        assert [s * row.scale for s in row.scores] == pytest.approx(expected, abs=1e-9)
        assert max(row.scores) == pytest.approx(1.0)


def test_normalisations_rescale_the_raw_scores(tiny_lm, analysis):
    raw = explain(tiny_lm, analysis, "input_x_gradient", positions=[analysis.answer_start + 1])
    l1 = explain(tiny_lm, analysis, "input_x_gradient", positions=[analysis.answer_start + 1], normalisation="l1")
    assert sum(abs(s) for s in l1.rows[0].scores) == pytest.approx(1.0)
    assert [s * l1.rows[0].scale for s in l1.rows[0].scores] == pytest.approx(raw.rows[0].scores, abs=1e-9)
    assert "sum of its absolute scores" in l1.normalisation_description


def test_bad_requests_say_what_to_change(tiny_lm, analysis):
    with pytest.raises(UserInputError, match="unknown saliency method 'lime'"):
        explain(tiny_lm, analysis, "lime")
    with pytest.raises(UserInputError, match="unknown saliency target"):
        explain(tiny_lm, analysis, "gradient_norm", target="loss")
    with pytest.raises(UserInputError, match="from 4 to 256"):
        explain(tiny_lm, analysis, "integrated_gradients", parameters={"steps": 0})
    with pytest.raises(ValidationError, match="not answer tokens"):
        explain(tiny_lm, analysis, "gradient_norm", positions=[0])
    with pytest.raises(ValidationError, match="one position only"):
        explain(tiny_lm, analysis, "gradient_norm", target="contrast", alternative_id=5)


def test_catalog_describes_every_method_and_target():
    listed = catalog()
    assert [m.name for m in listed.methods][:3] == ["gradient_norm", "input_x_gradient", "integrated_gradients"]
    ig = next(m for m in listed.methods if m.name == "integrated_gradients")
    steps = next(p for p in ig.parameters if p.name == "steps")
    assert (steps.minimum, steps.maximum, steps.default) == (4, 256, 64)
    assert {t.name for t in listed.targets} == {"logprob", "alternative", "contrast", "entropy"}


@pytest.mark.slow
def test_default_model_integrated_gradients_converge_from_the_chat_baseline(default_lm):
    analysis = analyze_text(default_lm, TextRequest(prompt="What is the capital of France?", max_new_tokens=2))
    result = text_saliency(default_lm, TextSaliencyRequest(
        ids=analysis.ids, answer_start=analysis.answer_start, positions=[analysis.answer_start],
        method="integrated_gradients", normalisation="none"))  # the default steps
    row = result.rows[0]
    change = row.target_value - row.baseline_value
    assert result.parameters["steps"] == 64
    assert abs(row.convergence_delta) < 0.05 * abs(change)  # 32 steps left 9 % here
    assert sum(row.scores) - change == pytest.approx(row.convergence_delta, abs=1e-4)


def test_prompt_space_keeps_the_answer_and_equals_captum_on_that_path(tiny_lm, analysis):
    result = explain(tiny_lm, analysis, "integrated_gradients", parameters={"steps": 8, "baseline": "prompt_space"})
    embed = tiny_lm.model.get_input_embeddings()
    space = tiny_lm.tokenizer(" ", add_special_tokens=False)["input_ids"][-1]
    users = [not (t.kind == "template" or t.special) and t.position < analysis.answer_start for t in result.tokens]
    baseline_ids = torch.tensor([space if u else i for u, i in zip(users, analysis.ids)])
    for row in result.rows:
        forward, embeddings = prefix_target(tiny_lm, analysis, row.position)
        baseline = embed(baseline_ids[None, :row.position]).detach()
        reference = IntegratedGradients(forward).attribute(embeddings, baselines=baseline, n_steps=8)
        assert row.scores == pytest.approx(reference[0].sum(dim=-1).tolist(), abs=1e-5)
        assert [s for s, u in zip(row.scores, users) if not u] == pytest.approx([0.0] * (row.position - sum(users)))
        with torch.no_grad():
            change = float(forward(embeddings)) - float(forward(baseline))
        assert sum(row.scores) - change == pytest.approx(row.convergence_delta, abs=1e-5)
