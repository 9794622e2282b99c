"""POST /v1/text with a forced beginning (prefix / prefix_ids) on the real default engine: the same tokens and
numbers as the in-process client, forced flags in the JSON, and a clear 422 for a prefix with an answer."""
from __future__ import annotations

import pytest

from backend.schemas import TextAnalysis, TextRequest

PROMPT = "What is the capital of France?"


def test_the_route_continues_from_prefix_ids_as_the_local_client_does(api, local_client):
    request = TextRequest(prompt=PROMPT, max_new_tokens=4, prefix="The capital is Lyon")
    response = api.post("/v1/text", json=request.model_dump(mode="json", exclude_none=True))
    assert response.status_code == 200, response.text
    served = TextAnalysis.model_validate(response.json())
    local = local_client.analyze_text(request)
    assert [t.id for t in served.tokens] == [t.id for t in local.tokens]
    assert [t.prob for t in served.tokens] == pytest.approx([t.prob for t in local.tokens], abs=1e-6)
    forced = [t["forced"] for t in response.json()["tokens"]]
    assert forced[:4] == [True] * 4 and not any(forced[4:]) and len(forced) > 4
    by_ids = api.post("/v1/text", json={"prompt": PROMPT, "max_new_tokens": 4,
                                        "prefix_ids": [t.id for t in local.tokens[:4]]})
    assert by_ids.status_code == 200 and [t["id"] for t in by_ids.json()["tokens"]] == [t.id for t in local.tokens]


@pytest.mark.parametrize("body, words", [
    ({"prefix": "Paris", "answer": "Paris."}, "at most one of answer"),
    ({"prefix": "   "}, "prefix is empty"),
    ({"prefix_ids": [1, -2]}, "greater than or equal to 0"),
    ({"prefix_ids": [10 ** 9]}, "not token ids"),
])
def test_bad_prefixes_get_a_422_saying_what_to_change(api, body, words):
    refused = api.post("/v1/text", json={"prompt": PROMPT, "max_new_tokens": 2, **body})
    assert refused.status_code == 422 and words in refused.text
