"""Token evidence from hand-made server answers: rank and entropy bounds for OpenAI's true top-k lists and for
vLLM's chosen-first lists, checked against distributions whose entropy is known exactly."""
from __future__ import annotations

import math

import pytest

from backend.errors import UserInputError
from backend.served.evidence import (Alternative, check_top_logprobs, parse_chat_choice, prompt_position_evidence,
                                     split_token, token_evidence)

# A distribution over V = 6 tokens: a..f, probabilities 0.4, 0.25, 0.15, 0.1, 0.06, 0.04.
PROBS = {"a": 0.4, "b": 0.25, "c": 0.15, "d": 0.1, "e": 0.06, "f": 0.04}
EXACT_H = -sum(p * math.log(p) for p in PROBS.values())
V = len(PROBS)


def alt(name: str) -> Alternative:
    return Alternative(text=name, logprob=math.log(PROBS[name]), id=ord(name))


def test_true_top_k_with_the_chosen_inside_counts_the_rank_and_bounds_contain_the_entropy():
    ev = token_evidence(alt("b"), [alt("c"), alt("a"), alt("b")], V, true_top_k=True)
    assert ev.rank == 2 and [a.text for a in ev.top] == ["a", "b", "c"]
    lower, upper = ev.entropy_bounds
    assert lower <= EXACT_H <= upper and not ev.entropy.exact
    assert ev.entropy.unseen_mass == pytest.approx(0.2)
    # unseen 0.2 over 3 tokens at most 0.15 each: upper spreads it evenly, lower puts 0.15 + 0.05
    known = -sum(p * math.log(p) for p in (0.4, 0.25, 0.15))
    assert upper == pytest.approx(known - 0.2 * math.log(0.2 / 3))
    assert lower == pytest.approx(known - 0.15 * math.log(0.15) - 0.05 * math.log(0.05))
    assert ev.exact == {"prob": True, "logprob": True, "rank": True, "entropy": False}


def test_chosen_beyond_a_true_top_k_is_beyond_and_counts_as_known_mass():
    ev = token_evidence(alt("e"), [alt("a"), alt("b"), alt("c")], V, true_top_k=True)
    assert ev.rank is None and ev.exact["rank"] is False
    assert ev.entropy.unseen_mass == pytest.approx(1 - 0.4 - 0.25 - 0.15 - 0.06)
    assert ev.entropy.lower <= EXACT_H <= ev.entropy.upper


def test_vllm_chosen_first_list_when_the_chosen_is_beyond_the_top_k():
    # vLLM, k = 3, sampled "e": it lists e, a, b (the 3rd most likely, c, is pushed out)
    ev = token_evidence(alt("e"), [alt("e"), alt("a"), alt("b")], V, true_top_k=False)
    assert ev.rank is None
    lower, upper = ev.entropy_bounds
    assert lower <= EXACT_H <= upper
    # read naively as a true top-3 the cap would be 0.06 < c's 0.15: inconsistent with the unseen mass
    with pytest.raises(UserInputError, match="more than the 3 other tokens can hold at most 0.06"):
        token_evidence(alt("e"), [alt("e"), alt("a"), alt("b")], V, true_top_k=True)


def test_vllm_chosen_first_list_when_the_chosen_is_inside_the_top_k():
    ev = token_evidence(alt("b"), [alt("b"), alt("a"), alt("c")], V, true_top_k=False)
    assert ev.rank == 2 and ev.entropy.lower <= EXACT_H <= ev.entropy.upper
    ambiguous = token_evidence(alt("c"), [alt("c"), alt("a"), alt("b")], V, true_top_k=False)
    assert ambiguous.rank is None  # the 3rd, or beyond: vLLM's list cannot tell
    assert ambiguous.entropy.lower <= EXACT_H <= ambiguous.entropy.upper


def test_every_token_known_is_exact():
    ev = token_evidence(alt("a"), [alt(n) for n in PROBS], V, true_top_k=True)
    assert ev.entropy.exact and ev.entropy.lower == pytest.approx(EXACT_H) and ev.rank == 1


def test_one_alternative_and_out_of_range_k_are_refused():
    with pytest.raises(UserInputError, match="top_logprobs >= 2"):
        token_evidence(alt("a"), [alt("a")], V, true_top_k=False)
    for k in (1, 21):
        with pytest.raises(UserInputError, match="from 2 to 20"):
            check_top_logprobs(k)


def test_token_id_placeholders():
    assert split_token("token_id:42") == ("", 42)
    assert split_token(" Paris") == (" Paris", None)


def test_parse_chat_choice_reads_vllm_fields_and_refuses_missing_logprobs():
    def entry(name):
        return {"token": name, "logprob": math.log(PROBS[name]), "bytes": list(name.encode())}
    choice = {"index": 0, "message": {"content": "ab"}, "finish_reason": "stop", "token_ids": [97, 98],
              "logprobs": {"content": [{**entry("a"), "top_logprobs": [entry("a"), entry("b")]},
                                       {**entry("b"), "top_logprobs": [entry("b"), entry("a")]}]}}
    sample = parse_chat_choice(choice, V, "'m' at http://h/v1", true_top_k=False)
    assert [t.id for t in sample.tokens] == [97, 98] and [t.rank for t in sample.tokens] == [1, None]
    assert sample.logprob == pytest.approx(math.log(0.4) + math.log(0.25))
    assert sample.token_ids == (97, 98) and sample.finish_reason == "stop"
    with pytest.raises(UserInputError, match="returned no log-probabilities"):
        parse_chat_choice({"message": {"content": "ab"}, "logprobs": None}, V, "m", true_top_k=False)


def test_prompt_position_reads_vllm_ranks_even_beyond_the_top_k():
    position = {str(ord(n)): {"logprob": math.log(PROBS[n]), "rank": r, "decoded_token": n}
                for n, r in (("e", 5), ("a", 1), ("b", 2))}
    ev = prompt_position_evidence(position, ord("e"), k=2, vocab_size=V)
    assert ev.rank == 5 and ev.exact["rank"] and [a.text for a in ev.top] == ["a", "b"]
    assert ev.entropy.lower <= EXACT_H <= ev.entropy.upper
