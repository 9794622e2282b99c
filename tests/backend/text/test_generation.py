"""analyze_text on a tiny random Llama: every number equals a direct transformers forward over the same ids."""
from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch

from backend.errors import UserInputError
from backend.models.text_loader import LoadedTextModel
from backend.text.generation import analyze_text, build_model_input, lone_texts, token_texts
from backend.schemas import TextRequest

PROMPT = "What is the capital of France?"


def request(**kwargs) -> TextRequest:
    return TextRequest(**{"model": "tiny-random", "prompt": PROMPT, "max_new_tokens": 8, **kwargs})


def direct_logprobs(lm: LoadedTextModel, ids: list[int], temperature: float = 1.0) -> torch.Tensor:
    """(L-1, V) float64 log-probabilities from our own forward; row t predicts ids[t + 1]."""
    with torch.no_grad():
        logits = lm.model(input_ids=torch.tensor([ids])).logits[0, :-1]
    return torch.log_softmax(logits.to(torch.float64) / temperature, dim=-1)


def assert_tokens_match_direct(tokens, ids, logprobs, top_k):
    assert tokens, "nothing to compare"
    positions = torch.tensor([t.position for t in tokens])
    assert [t.id for t in tokens] == [ids[p] for p in positions.tolist()]
    rows = logprobs[positions - 1]
    chosen = rows.gather(1, torch.tensor([[t.id] for t in tokens])).squeeze(1)
    entropy = -(rows.exp() * rows).sum(dim=-1)
    rank = (rows > chosen[:, None]).sum(dim=-1) + 1
    top_lp, top_ids = rows.topk(max(top_k, 2), dim=-1)
    top_p = top_lp.exp()
    assert [t.logprob for t in tokens] == pytest.approx(chosen.tolist(), abs=1e-4)
    assert [t.prob for t in tokens] == pytest.approx(chosen.exp().tolist(), abs=1e-4)
    assert [t.entropy for t in tokens] == pytest.approx(entropy.tolist(), abs=1e-4)
    assert [t.rank for t in tokens] == rank.tolist()
    assert [t.margin for t in tokens] == pytest.approx((top_p[:, 0] - top_p[:, 1]).tolist(), abs=1e-4)
    assert [[a.id for a in t.top_k] for t in tokens] == top_ids[:, :top_k].tolist()
    for token, probs in zip(tokens, top_p[:, :top_k].tolist()):
        assert [a.prob for a in token.top_k] == pytest.approx(probs, abs=1e-4)


@pytest.fixture(scope="module")
def greedy(tiny_lm):
    result = analyze_text(tiny_lm, request())
    _, input_ids, _ = build_model_input(tiny_lm, PROMPT, None)
    return result, input_ids


def test_greedy_generates_the_requested_number_of_tokens(greedy):
    result, input_ids = greedy
    assert result.mode == "generate"
    assert result.chat_template is True
    assert result.model == "tiny-random"
    assert result.stop_reason in {"eos", "max_new_tokens"}
    assert 1 <= len(result.tokens) <= 8
    if result.stop_reason == "max_new_tokens":
        assert len(result.tokens) == 8
    assert [t.position for t in result.tokens] == list(range(len(input_ids), len(input_ids) + len(result.tokens)))


def test_answer_numbers_equal_a_direct_forward(tiny_lm, greedy):
    result, input_ids = greedy
    ids = input_ids + [t.id for t in result.tokens]
    assert_tokens_match_direct(result.tokens, ids, direct_logprobs(tiny_lm, ids), top_k=5)


def test_prompt_token_numbers_equal_a_direct_forward(tiny_lm, greedy):
    result, input_ids = greedy
    ids = input_ids + [t.id for t in result.tokens]
    assert [t.position for t in result.prompt_tokens] == list(range(1, len(input_ids)))
    assert [t.id for t in result.prompt_tokens] == input_ids[1:]
    assert_tokens_match_direct(result.prompt_tokens, ids, direct_logprobs(tiny_lm, ids), top_k=5)


def test_greedy_tokens_are_rank_one_and_the_direct_argmax(tiny_lm, greedy):
    result, input_ids = greedy
    ids = input_ids + [t.id for t in result.tokens]
    logprobs = direct_logprobs(tiny_lm, ids)
    for token in result.tokens:
        assert token.rank == 1
        assert token.id == int(logprobs[token.position - 1].argmax())
        assert token.top_k[0].id == token.id


def test_summaries_cover_the_answer_tokens(greedy):
    result, _ = greedy
    values = {s.name: s.value for s in result.summaries}
    assert values["sequence_logprob"] == pytest.approx(sum(t.logprob for t in result.tokens), abs=1e-9)
    assert values["max_entropy"] == pytest.approx(max(t.entropy for t in result.tokens), abs=1e-9)
    assert all(s.higher_is in {"uncertain", "confident"} for s in result.summaries)


def test_greedy_is_deterministic(tiny_lm, greedy):
    again = analyze_text(tiny_lm, request())
    assert [t.id for t in again.tokens] == [t.id for t in greedy[0].tokens]


def test_top_k_request_sets_the_number_of_alternatives(tiny_lm):
    result = analyze_text(tiny_lm, request(max_new_tokens=2, top_k=3))
    assert all(len(t.top_k) == 3 for t in result.tokens + result.prompt_tokens)


def sampled_ids(lm, seed: int) -> list[int]:
    return [t.id for t in analyze_text(lm, request(do_sample=True, seed=seed)).tokens]


def test_sampling_with_the_same_seed_is_reproducible(tiny_lm):
    assert sampled_ids(tiny_lm, 1) == sampled_ids(tiny_lm, 1)


def test_sampling_with_different_seeds_differs(tiny_lm):
    assert sampled_ids(tiny_lm, 1) != sampled_ids(tiny_lm, 2)


def test_sampled_answer_numbers_equal_a_direct_forward(tiny_lm):
    result = analyze_text(tiny_lm, request(do_sample=True, seed=3, temperature=1.5))
    assert result.do_sample is True and result.seed == 3
    _, input_ids, _ = build_model_input(tiny_lm, PROMPT, None)
    ids = input_ids + [t.id for t in result.tokens]
    assert_tokens_match_direct(result.tokens, ids, direct_logprobs(tiny_lm, ids, temperature=1.5), top_k=5)


def test_temperature_two_reports_softmax_of_halved_logits(tiny_lm, greedy):
    result = analyze_text(tiny_lm, request(temperature=2.0))
    assert result.temperature == 2.0
    greedy_result, input_ids = greedy
    assert [t.id for t in result.tokens] == [t.id for t in greedy_result.tokens]
    ids = input_ids + [t.id for t in result.tokens]
    with torch.no_grad():
        logits = tiny_lm.model(input_ids=torch.tensor([ids])).logits[0, :-1].to(torch.float64)
    probs = torch.softmax(logits / 2, dim=-1)
    for token in result.tokens:
        assert token.prob == pytest.approx(probs[token.position - 1, token.id].item(), abs=1e-4)
    assert_tokens_match_direct(result.tokens, ids, direct_logprobs(tiny_lm, ids, temperature=2.0), top_k=5)
    assert result.tokens[0].entropy > greedy_result.tokens[0].entropy


def test_score_mode_scores_the_given_answer(tiny_lm):
    answer = "Paris is the capital."
    result = analyze_text(tiny_lm, request(answer=answer))
    assert result.mode == "score"
    assert result.stop_reason == "scored"
    assert [t.id for t in result.tokens] == tiny_lm.tokenizer(answer, add_special_tokens=False)["input_ids"]
    assert result.generated_text == answer
    assert "".join(t.text for t in result.tokens) == answer
    _, input_ids, _ = build_model_input(tiny_lm, PROMPT, None)
    ids = input_ids + [t.id for t in result.tokens]
    assert_tokens_match_direct(result.tokens, ids, direct_logprobs(tiny_lm, ids), top_k=5)


def test_score_mode_does_not_depend_on_max_new_tokens(tiny_lm):
    answer = "Paris is the capital of France, a country in Europe."
    result = analyze_text(tiny_lm, request(answer=answer, max_new_tokens=1))
    assert len(result.tokens) > 1


def test_chat_template_off_uses_the_raw_prompt(tiny_lm):
    result = analyze_text(tiny_lm, request(chat_template=False))
    assert result.chat_template is False
    assert result.model_input == PROMPT
    raw_ids = tiny_lm.tokenizer(PROMPT)["input_ids"]
    assert [t.id for t in result.prompt_tokens] == raw_ids[1:]
    assert result.tokens[0].position == len(raw_ids)


def test_chat_template_on_wraps_the_prompt(tiny_lm):
    result = analyze_text(tiny_lm, request(chat_template=True))
    assert result.chat_template is True
    assert result.model_input != PROMPT
    assert PROMPT in result.model_input
    assert result.model_input.startswith("<|im_start|>")


def test_chat_template_on_without_a_template_raises_user_input_error(tiny_lm):
    lm = LoadedTextModel(spec=tiny_lm.spec, model=tiny_lm.model, tokenizer=SimpleNamespace(chat_template=None),
                         device="cpu")
    with pytest.raises(UserInputError, match="no chat template"):
        build_model_input(lm, PROMPT, True)


def test_too_long_prompt_raises_user_input_error_naming_the_limit(tiny_lm):
    assert tiny_lm.max_length == 256
    with pytest.raises(UserInputError, match="256") as info:
        analyze_text(tiny_lm, request(prompt="word " * 300, chat_template=False))
    assert "shorten the prompt" in str(info.value)


def test_too_many_new_tokens_raises_user_input_error(tiny_lm):
    with pytest.raises(UserInputError, match="fewer new tokens"):
        analyze_text(tiny_lm, request(max_new_tokens=250))


def test_too_long_answer_in_score_mode_raises_user_input_error(tiny_lm):
    with pytest.raises(UserInputError, match="256"):
        analyze_text(tiny_lm, request(answer="word " * 300))


def test_generated_token_texts_concatenate_to_the_decoded_answer(tiny_lm, greedy):
    result, _ = greedy
    ids = [t.id for t in result.tokens]
    assert "".join(t.text for t in result.tokens) == tiny_lm.tokenizer.decode(ids, skip_special_tokens=False)


def test_generated_token_texts_after_a_multibyte_prompt_concatenate_to_the_decoded_answer(tiny_lm):
    result = analyze_text(tiny_lm, request(prompt="café 日本語 🙂"))
    ids = [t.id for t in result.tokens]
    assert "".join(t.text for t in result.tokens) == tiny_lm.tokenizer.decode(ids, skip_special_tokens=False)


def test_ascii_token_texts_keep_leading_spaces(default_tokenizer):
    ids = default_tokenizer("The cat sat on the mat.", add_special_tokens=False)["input_ids"]
    texts = token_texts(default_tokenizer, ids, 0, len(ids))
    assert "".join(texts) == "The cat sat on the mat."
    assert texts[1] == " cat"


def test_lone_texts_decode_each_distinct_id_alone(default_tokenizer):
    cat, the = default_tokenizer(" cat the", add_special_tokens=False)["input_ids"]
    texts = lone_texts(default_tokenizer, [the, cat, the, default_tokenizer.eos_token_id])
    assert texts == {cat: " cat", the: " the", default_tokenizer.eos_token_id: default_tokenizer.eos_token}


def test_alternatives_texts_are_their_lone_decodes(tiny_lm):
    result = analyze_text(tiny_lm, request(prompt="The sea is", answer=" blue and deep"))
    for token in result.tokens + result.prompt_tokens:
        assert [a.text for a in token.top_k] == [tiny_lm.tokenizer.decode([a.id]) for a in token.top_k]


MULTIBYTE = "café 日本語 🙂"


def test_multibyte_answer_token_texts_concatenate_to_the_decoded_answer(tiny_lm):
    result = analyze_text(tiny_lm, request(prompt=MULTIBYTE, answer=MULTIBYTE))
    ids = [t.id for t in result.tokens]
    assert tiny_lm.tokenizer.decode(ids, skip_special_tokens=False) == MULTIBYTE
    assert "".join(t.text for t in result.tokens) == MULTIBYTE


def test_multibyte_prompt_token_texts_concatenate_to_the_model_input(tiny_lm):
    result = analyze_text(tiny_lm, request(prompt=MULTIBYTE, chat_template=False, max_new_tokens=1))
    first = tiny_lm.tokenizer.decode([tiny_lm.tokenizer(MULTIBYTE)["input_ids"][0]])
    assert first + "".join(t.text for t in result.prompt_tokens) == MULTIBYTE


def test_multibyte_answer_scores_still_equal_a_direct_forward(tiny_lm):
    result = analyze_text(tiny_lm, request(prompt=MULTIBYTE, answer=MULTIBYTE))
    assert result.generated_text == MULTIBYTE
    _, input_ids, _ = build_model_input(tiny_lm, MULTIBYTE, None)
    ids = input_ids + [t.id for t in result.tokens]
    assert_tokens_match_direct(result.tokens, ids, direct_logprobs(tiny_lm, ids), top_k=5)


def test_probabilities_are_valid(greedy):
    result, _ = greedy
    for token in result.tokens + result.prompt_tokens:
        assert 0.0 <= token.prob <= 1.0
        assert token.logprob == pytest.approx(math.log(token.prob), abs=1e-9)
        assert 0.0 <= token.entropy <= math.log(49152) + 1e-9
        assert 0.0 <= token.margin <= 1.0
        assert token.rank >= 1


def test_result_carries_every_id_with_the_answer_start(greedy):
    result, input_ids = greedy
    assert result.ids[:result.answer_start] == input_ids
    assert result.ids[result.answer_start:] == [t.id for t in result.tokens]
    assert [t.position for t in result.prompt_tokens] == list(range(1, result.answer_start))
