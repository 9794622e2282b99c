"""Continuing an answer from a forced beginning (TextRequest.prefix / prefix_ids): the forced tokens are marked,
the generated rest follows them, and every number equals a direct transformers forward over the same ids; a
branch's forced token gets the probability the parent's analysis gave that alternative (the default model)."""
from __future__ import annotations

import pytest
import torch

from backend.errors import UserInputError
from backend.text import passes
from backend.text.generation import analyze_text, build_model_input
from backend.schemas import TextRequest
from tests.backend.text.test_generation import assert_tokens_match_direct, direct_logprobs

PROMPT = "What is the capital of France?"


def tiny(**kwargs) -> TextRequest:
    return TextRequest(**{"model": "tiny-random", "prompt": PROMPT, "max_new_tokens": 6, **kwargs})


def test_a_prefix_of_ids_is_kept_marked_forced_and_continued(tiny_lm):
    forced = [100, 200, 300]
    result = analyze_text(tiny_lm, tiny(prefix_ids=forced))
    _, input_ids, _ = build_model_input(tiny_lm, PROMPT, None)
    assert [t.id for t in result.tokens[:3]] == forced
    assert [t.forced for t in result.tokens] == [True] * 3 + [False] * (len(result.tokens) - 3)
    assert result.mode == "generate" and 3 < len(result.tokens) <= 3 + 6
    assert result.ids == input_ids + [t.id for t in result.tokens]
    assert result.answer_start == len(input_ids)
    assert_tokens_match_direct(result.tokens, result.ids, direct_logprobs(tiny_lm, result.ids), top_k=5)


def test_the_continuation_is_what_generate_makes_after_the_prefix(tiny_lm):
    forced = [100, 200, 300]
    result = analyze_text(tiny_lm, tiny(prefix_ids=forced))
    _, input_ids, _ = build_model_input(tiny_lm, PROMPT, None)
    with torch.no_grad():
        ids = torch.tensor([input_ids + forced])
        direct = tiny_lm.model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=6, do_sample=False,
                                        pad_token_id=0)[0, ids.shape[1]:].tolist()
    assert [t.id for t in result.tokens[3:]] == direct[:len(result.tokens) - 3]


def test_a_text_prefix_is_tokenised_as_an_answer_is(tiny_lm):
    result = analyze_text(tiny_lm, tiny(prefix="The capital is"))
    expected = tiny_lm.tokenizer("The capital is", add_special_tokens=False)["input_ids"]
    assert [t.id for t in result.tokens[:len(expected)]] == expected
    assert sum(t.forced for t in result.tokens) == len(expected)
    assert result.generated_text.startswith("The capital is")


def test_a_prefix_ending_in_an_end_token_is_not_continued(tiny_lm):
    end = tiny_lm.tokenizer.eos_token_id
    result = analyze_text(tiny_lm, tiny(prefix_ids=[100, end]))
    assert [t.id for t in result.tokens] == [100, end]
    assert result.stop_reason == "eos" and all(t.forced for t in result.tokens)


def test_a_long_prompt_read_in_chunks_scores_the_prefix_the_same(tiny_lm, monkeypatch):
    forced = [100, 200]
    short = analyze_text(tiny_lm, tiny(prefix_ids=forced, max_new_tokens=3))
    monkeypatch.setattr("backend.text.generation.SINGLE_PASS_TOKENS", 8)
    monkeypatch.setattr(passes, "SINGLE_PASS_TOKENS", 8)
    monkeypatch.setattr(passes, "CHUNK_TOKENS", 8)
    chunked = analyze_text(tiny_lm, tiny(prefix_ids=forced, max_new_tokens=3))
    assert [t.id for t in chunked.tokens] == [t.id for t in short.tokens]
    assert [t.forced for t in chunked.tokens] == [t.forced for t in short.tokens]
    assert [t.logprob for t in chunked.tokens] == pytest.approx([t.logprob for t in short.tokens], abs=1e-4)


def test_prefix_ids_outside_the_vocabulary_are_refused(tiny_lm):
    width = tiny_lm.model.get_input_embeddings().num_embeddings
    with pytest.raises(UserInputError, match="not token ids"):
        analyze_text(tiny_lm, tiny(prefix_ids=[1, width]))


def test_the_length_check_counts_the_prefix(tiny_lm):
    _, input_ids, _ = build_model_input(tiny_lm, PROMPT, None)
    room = tiny_lm.max_length - len(input_ids)
    with pytest.raises(UserInputError, match="reads at most"):
        analyze_text(tiny_lm, tiny(prefix_ids=[100] * (room - 2), max_new_tokens=3))


@pytest.mark.parametrize("fields, words", [
    (dict(prefix="  "), "prefix is empty"),
    (dict(prefix="a", answer="b"), "at most one of answer"),
    (dict(prefix="a", prefix_ids=[1]), "at most one of answer"),
    (dict(answer="a", prefix_ids=[1]), "at most one of answer"),
    (dict(prefix_ids=[]), "at least 1"),
    (dict(prefix_ids=[-1]), "greater than or equal to 0"),
])
def test_bad_prefixes_are_refused_saying_what_to_change(fields, words):
    with pytest.raises(ValueError, match=words):
        TextRequest(prompt=PROMPT, **fields)


@pytest.mark.slow
def test_a_branch_forced_token_gets_the_probability_the_parent_gave_it(default_lm):
    """The default model: force the second alternative at answer token 4, keep tokens 0-3; the forced token's
    probability equals the parent's listed probability for it, and both equal a direct transformers forward."""
    parent = analyze_text(default_lm, TextRequest(prompt=PROMPT, max_new_tokens=10, temperature=0.7))
    step, alternative = 4, parent.tokens[4].top_k[1]
    kept = [t.id for t in parent.tokens[:step]]
    branch = analyze_text(default_lm, TextRequest(prompt=PROMPT, max_new_tokens=5, temperature=0.7,
                                                  prefix_ids=kept + [alternative.id]))
    forced = branch.tokens[step]
    assert (forced.id, forced.forced) == (alternative.id, True)
    assert forced.prob == pytest.approx(alternative.prob, abs=1e-5)
    assert [t.prob for t in branch.tokens[:step]] == pytest.approx([t.prob for t in parent.tokens[:step]], abs=1e-5)
    assert not branch.tokens[step + 1].forced
    logprobs = direct_logprobs(default_lm, branch.ids, temperature=0.7)
    assert forced.prob == pytest.approx(float(logprobs[forced.position - 1, alternative.id].exp()), abs=1e-5)
    assert_tokens_match_direct(branch.tokens, branch.ids, logprobs, top_k=5)
