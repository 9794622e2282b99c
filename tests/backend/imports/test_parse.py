"""Reading imported logs: each format, JSONL and arrays, and every refusal naming the line and the field."""
from __future__ import annotations

import copy
import json
import math

import pytest

from backend.analyses.topk_entropy import entropy_bounds
from backend.errors import UserInputError
from backend.imports import limits
from backend.imports.parse import parse_log
from tests.backend.imports.logs import chat_response, completion_response, jsonl

LN = math.log
TOKENS = [("Par", LN(0.75), [("Par", LN(0.75)), ("Lon", LN(0.25))]),
          ("is", LN(0.5), [("is", LN(0.5)), ("is.", LN(0.3)), ("!", LN(0.2))])]


def test_chat_completion_tokens_carry_the_logged_numbers_and_exact_entropy_when_the_mass_is_all_seen():
    (response,) = parse_log(json.dumps(chat_response(TOKENS, model="smollm2")), vocab_size=3)
    assert (response.label, response.format, response.model, response.prompt) == ("line 1", "chat", "smollm2", None)
    (choice,) = response.choices
    first, second = choice.tokens
    assert (first.text, first.prob, first.rank) == ("Par", pytest.approx(0.75), 1)
    # p = (0.75, 0.25) over V = 3 with nothing unseen: H = -(0.75 ln 0.75 + 0.25 ln 0.25) = 0.562335 nats, exact
    assert first.entropy.exact and first.entropy.estimate == pytest.approx(0.5623351446, abs=1e-9)
    assert second.entropy.estimate == pytest.approx(-(0.5 * LN(0.5) + 0.3 * LN(0.3) + 0.2 * LN(0.2)), abs=1e-12)
    assert choice.text == "Paris" and choice.special == (False, False) and choice.finish_reason == "stop"


def test_entropy_bounds_of_a_partial_top_k_are_the_served_paths_bounds():
    tokens = [("a", LN(0.5), [("a", LN(0.5)), ("b", LN(0.2))])]
    (response,) = parse_log(json.dumps(chat_response(tokens)), vocab_size=1000)
    token = response.choices[0].tokens[0]
    assert token.entropy == entropy_bounds([LN(0.5), LN(0.2)], 1000)
    assert not token.entropy.exact and token.entropy.lower < token.entropy.upper


def test_an_end_token_listed_beyond_the_text_is_special():
    tokens = [*TOKENS, ("<|im_end|>", LN(0.9), [("<|im_end|>", LN(0.9)), ("\n", LN(0.05))])]
    (response,) = parse_log(json.dumps(chat_response(tokens, content="Paris")), vocab_size=10)
    assert response.choices[0].special == (False, False, True)


def test_vllm_completion_format():
    (response,) = parse_log(json.dumps(completion_response(TOKENS)), vocab_size=3)
    assert response.format == "completion"
    choice = response.choices[0]
    assert [t.text for t in choice.tokens] == ["Par", "is"] and choice.text == "Paris"
    assert choice.tokens[1].prob == pytest.approx(0.5) and choice.tokens[1].rank == 1
    assert choice.finish_reason == "length"


def test_a_chosen_token_beyond_the_logged_alternatives_has_no_rank():
    tokens = [("x", LN(0.01), [("a", LN(0.6)), ("b", LN(0.3))])]
    (response,) = parse_log(json.dumps(completion_response(tokens)), vocab_size=100)
    assert response.choices[0].tokens[0].rank is None


def test_jsonl_lines_with_prompt_reference_temperature_and_messages():
    first = {**chat_response(TOKENS), "prompt": "Capital of France?", "reference": "Paris", "temperature": 0.7}
    second = {**completion_response(TOKENS), "messages": [{"role": "system", "content": "be brief"},
                                                          {"role": "user", "content": "Capital of France?"}]}
    wrapped = {"prompt": "Other?", "response": chat_response(TOKENS)}
    responses = parse_log(jsonl(first, second) + "\n" + jsonl(wrapped), vocab_size=3)
    assert [r.label for r in responses] == ["line 1", "line 2", "line 4"]
    assert [r.prompt for r in responses] == ["Capital of France?", "Capital of France?", "Other?"]
    assert responses[0].reference == "Paris" and responses[0].temperature == 0.7
    assert responses[1].reference is None


def test_a_json_array_of_responses_and_a_pretty_printed_one():
    responses = parse_log(json.dumps([chat_response(TOKENS), completion_response(TOKENS)]), vocab_size=3)
    assert [(r.label, r.format) for r in responses] == [("item 1", "chat"), ("item 2", "completion")]
    (pretty,) = parse_log(json.dumps(chat_response(TOKENS), indent=2), vocab_size=3)
    assert pretty.choices[0].text == "Paris"


def _chat(**change) -> dict:
    response = chat_response(TOKENS)
    for path, value in change.items():
        target = response
        keys = path.split("__")
        for key in keys[:-1]:
            target = target[int(key) if key.isdigit() else key]
        if value is DELETE:
            del target[keys[-1]]
        else:
            target[int(keys[-1]) if keys[-1].isdigit() else keys[-1]] = value
    return response


def _completion(column: str, value: list) -> dict:
    response = completion_response(TOKENS)
    response["choices"][0]["logprobs"][column] = value
    return response


DELETE = object()
GOOD = json.dumps(chat_response(TOKENS))
CONTENT = "choices__0__logprobs__content"
MALFORMED = {
    "missing choices": (json.dumps({"object": "chat.completion"}), "line 1: choices: is missing"),
    "empty choices": (json.dumps(_chat(choices=[])), "line 1: choices: is empty"),
    "no logprobs": (json.dumps(_chat(choices__0__logprobs=DELETE)), "line 1: choices[0].logprobs: is missing"),
    "content not a list": (json.dumps(_chat(choices__0__logprobs__content={})),
                           "line 1: choices[0].logprobs.content: must be a list, got an object"),
    "empty content": (json.dumps(_chat(**{CONTENT: []})), "line 1: choices[0].logprobs.content: is empty"),
    "logprob a string": (json.dumps(_chat(**{f"{CONTENT}__1__logprob": "-0.5"})),
                         "line 1: choices[0].logprobs.content[1].logprob: must be a number, got a string"),
    "logprob positive": (json.dumps(_chat(**{f"{CONTENT}__1__logprob": 0.5})),
                         "line 1: choices[0].logprobs.content[1].logprob: must be a finite number <= 0"),
    "logprob NaN": (GOOD.replace(f"{LN(0.3)}", "NaN", 1),
                    "line 1: choices[0].logprobs.content[1].top_logprobs[1].logprob: must be a finite number"),
    "alternative without token": (json.dumps(_chat(**{f"{CONTENT}__0__top_logprobs__1__token": DELETE})),
                                  "line 1: choices[0].logprobs.content[0].top_logprobs[1].token: is missing"),
    "top_logprobs missing": (json.dumps(_chat(**{f"{CONTENT}__0__top_logprobs": DELETE})),
                             "line 1: choices[0].logprobs.content[0].top_logprobs: is missing"),
    "no alternatives": (json.dumps(_chat(**{f"{CONTENT}__0__top_logprobs": []})),
                        "line 1: choices[0].logprobs.content[0]: lists no alternatives"),
    "only the chosen token": (json.dumps(_chat(**{f"{CONTENT}__0__top_logprobs": [{"token": "Par",
                                                                                   "logprob": LN(0.75)}]})),
                              "line 1: choices[0].logprobs.content[0]: one alternative per token"),
    "bad bytes": (json.dumps(_chat(**{f"{CONTENT}__0__bytes": [300]})),
                  "line 1: choices[0].logprobs.content[0].bytes: must be a list of integers from 0 to 255"),
    "token ids of the wrong length": (json.dumps(_chat(choices__0__token_ids=[1])),
                                      "line 1: choices[0].token_ids: must be 2 non-negative integers"),
    "neither format": (json.dumps({"choices": [{"foo": 1}]}), "line 1: choices[0]: is neither a chat completion"),
    "reference not a string": (json.dumps({**chat_response(TOKENS), "reference": 3}),
                               "line 1: reference: must be a string"),
    "temperature out of range": (json.dumps({**chat_response(TOKENS), "temperature": -1}),
                                 "line 1: temperature: must be a number from 0 to 10"),
    "messages without a user": (json.dumps({**chat_response(TOKENS), "messages": [{"role": "system",
                                                                                   "content": "x"}]}),
                                "line 1: messages: has no user message"),
    "a line that is an array": (GOOD + "\n[1, 2]\n", "line 2: must be a JSON object (a response), got list"),
    "a wrapped response's field": (json.dumps({"prompt": "q", "response": _chat(**{f"{CONTENT}__0__logprob": None})}),
                                   "line 1: response.choices[0].logprobs.content[0].logprob: is missing"),
    "not JSON on line 3": (GOOD + "\n" + GOOD + "\n{'single': 'quotes'}\n",
                           "line 3: not valid JSON: Expecting property name enclosed in double quotes at column 2"),
    "completion columns of different lengths": (json.dumps(_completion("token_logprobs", [LN(0.75)])),
                                                "line 1: choices[0].logprobs.token_logprobs: has 1 entries but tokens "
                                                "has 2"),
    "completion top_logprobs not an object": (
        json.dumps(_completion("top_logprobs", [["Par", LN(0.75)], {"is": LN(0.5), "!": LN(0.2)}])),
        "line 1: choices[0].logprobs.top_logprobs[0]: must be an object {token: logprob}, got list"),
    "completion alternative NaN": (json.dumps(completion_response(TOKENS)).replace(f'"Lon": {LN(0.25)}', '"Lon": NaN'),
                                   'line 1: choices[0].logprobs.top_logprobs[0]["Lon"]: must be a finite number'),
}


@pytest.mark.parametrize("content, message", MALFORMED.values(), ids=MALFORMED.keys())
def test_every_malformed_log_is_refused_naming_its_line_and_field(content, message):
    with pytest.raises(UserInputError) as refused:
        parse_log(content, vocab_size=50)
    assert message in str(refused.value)


def test_a_truncated_file_names_where_it_stops():
    single = json.dumps(chat_response(TOKENS), indent=2)
    with pytest.raises(UserInputError, match=r"^line \d+: not valid JSON: .* \(the file looks cut short\)$"):
        parse_log(single[: len(single) // 2], vocab_size=50)
    two = GOOD + "\n" + GOOD[: len(GOOD) - 40]
    with pytest.raises(UserInputError, match=r"^line 2: not valid JSON: .*cut short"):
        parse_log(two, vocab_size=50)


def test_sizes_are_bounded_before_and_while_reading(monkeypatch):
    with pytest.raises(UserInputError, match="larger than 20,000,000 bytes"):
        parse_log(" " * (limits.MAX_IMPORT_BYTES + 1), vocab_size=50)
    with pytest.raises(UserInputError, match="nested too deeply"):
        parse_log("[" * 200_000 + "]" * 200_000, vocab_size=50)
    with pytest.raises(UserInputError, match="the file is empty"):
        parse_log(" \n\n", vocab_size=50)
    monkeypatch.setattr(limits, "MAX_RESPONSES", 2)
    with pytest.raises(UserInputError, match="the file has 3 lines; at most 2"):
        parse_log(jsonl(*[chat_response(TOKENS)] * 3), vocab_size=50)
    monkeypatch.setattr(limits, "MAX_TOTAL_TOKENS", 3)
    with pytest.raises(UserInputError, match="^line 2: the file holds more than 3 answer tokens"):
        parse_log(jsonl(*[chat_response(TOKENS)] * 2), vocab_size=50)
    monkeypatch.setattr(limits, "MAX_TOKENS_PER_CHOICE", 1)
    with pytest.raises(UserInputError, match=r"^line 1: choices\[0\].logprobs.content: has 2 tokens; at most 1"):
        parse_log(GOOD, vocab_size=50)
    monkeypatch.setattr(limits, "MAX_CHOICES", 1)
    with pytest.raises(UserInputError, match=r"^line 1: choices: has 2 choices; at most 1"):
        parse_log(json.dumps(chat_response(TOKENS, choices=2)), vocab_size=50)


def test_nothing_in_a_log_is_evaluated():
    hostile = copy.deepcopy(chat_response(TOKENS))
    hostile["choices"][0]["message"]["content"] = "__import__('os').system('touch /tmp/uqlens-pwned')"
    (response,) = parse_log(json.dumps(hostile), vocab_size=50)
    assert response.choices[0].text.startswith("__import__")
    with pytest.raises(UserInputError, match="not valid JSON"):
        parse_log("__import__('os').system('true')", vocab_size=50)
